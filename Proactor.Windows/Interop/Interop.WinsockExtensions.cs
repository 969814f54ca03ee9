using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;

namespace Proactor.Windows;

internal static unsafe partial class Interop
{
    internal static partial class Winsock
    {
        // AcceptEx and ConnectEx are not exported by ws2_32 under a stable contract: Winsock hands
        // out the provider's own entry points through SIO_GET_EXTENSION_FUNCTION_POINTER. They are
        // provider-wide, so one lookup per address family serves every socket of the process.
        private static readonly Guid s_wsaidAcceptEx = new(0xb5367df1, 0xcbac, 0x11cf, 0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92);
        private static readonly Guid s_wsaidConnectEx = new(0x25a207b9, 0xddf3, 0x4660, 0x8e, 0xe9, 0x76, 0xe5, 0x8c, 0x74, 0x06, 0x3e);

        private static nint s_acceptExV4;
        private static nint s_acceptExV6;
        private static nint s_connectExV4;
        private static nint s_connectExV6;

        /// <summary>AcceptEx for sockets of <paramref name="family"/>, looked up through <paramref name="socket"/>
        /// on first use. Returns 0 and the Winsock error when the provider has none.</summary>
        internal static nint GetAcceptEx(nint socket, AddressFamily family, out int error) =>
            GetExtension(ref (family == AddressFamily.InterNetworkV6 ? ref s_acceptExV6 : ref s_acceptExV4), socket, s_wsaidAcceptEx, out error);

        /// <summary>ConnectEx for sockets of <paramref name="family"/> (see <see cref="GetAcceptEx"/>).</summary>
        internal static nint GetConnectEx(nint socket, AddressFamily family, out int error) =>
            GetExtension(ref (family == AddressFamily.InterNetworkV6 ? ref s_connectExV6 : ref s_connectExV4), socket, s_wsaidConnectEx, out error);

        private static nint GetExtension(ref nint cache, nint socket, Guid id, out int error)
        {
            error = 0;
            nint function = Volatile.Read(ref cache);
            if (function != 0)
            {
                return function;
            }

            uint returned;
            if (WSAIoctl(socket, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, (uint)sizeof(Guid), &function, (uint)sizeof(nint), &returned, null, 0) == SOCKET_ERROR)
            {
                error = Marshal.GetLastPInvokeError();
                return 0;
            }

            // Two threads may race here; both store the same provider entry point.
            Volatile.Write(ref cache, function);
            return function;
        }

        /// <summary>Calls AcceptEx through its extension pointer. Returns true on immediate success;
        /// otherwise <paramref name="error"/> holds the Winsock error (WSA_IO_PENDING when started).</summary>
        internal static bool AcceptEx(
            nint function,
            nint sListenSocket,
            nint sAcceptSocket,
            void* lpOutputBuffer,
            uint dwLocalAddressLength,
            uint dwRemoteAddressLength,
            uint* lpdwBytesReceived,
            NativeOverlapped* lpOverlapped,
            out int error)
        {
            // The extension functions report through WSASetLastError, which is the thread's last
            // Win32 error: clear it first, read it right after (nothing runs in between).
            Marshal.SetLastSystemError(0);
            int ok = ((delegate* unmanaged<nint, nint, void*, uint, uint, uint, uint*, NativeOverlapped*, int>)function)(
                sListenSocket, sAcceptSocket, lpOutputBuffer, 0, dwLocalAddressLength, dwRemoteAddressLength, lpdwBytesReceived, lpOverlapped);
            error = ok != 0 ? 0 : Marshal.GetLastSystemError();
            return ok != 0;
        }

        /// <summary>Calls ConnectEx (no data sent with the connect) through its extension pointer.
        /// Returns true on immediate success; otherwise <paramref name="error"/> holds the Winsock error.</summary>
        internal static bool ConnectEx(nint function, nint s, byte* name, int namelen, NativeOverlapped* lpOverlapped, out int error)
        {
            Marshal.SetLastSystemError(0);
            uint sent;
            int ok = ((delegate* unmanaged<nint, byte*, int, void*, uint, uint*, NativeOverlapped*, int>)function)(
                s, name, namelen, null, 0, &sent, lpOverlapped);
            error = ok != 0 ? 0 : Marshal.GetLastSystemError();
            return ok != 0;
        }
    }
}
