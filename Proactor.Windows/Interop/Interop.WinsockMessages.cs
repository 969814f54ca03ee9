using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Proactor.Windows;

internal static unsafe partial class Interop
{
    internal static partial class Winsock
    {
        internal const int IPPROTO_IP = 0;
        internal const int IPPROTO_IPV6 = 41;
        internal const int IP_PKTINFO = 19;
        internal const int IPV6_PKTINFO = 19;

        private static readonly Guid s_wsaidWsaRecvMsg = new(0xf689d7c8, 0x6f1f, 0x436b, 0x8a, 0x53, 0xe5, 0x4f, 0xe3, 0x51, 0xc3, 0x22);
        private static nint s_wsaRecvMsg;

        /// <summary>WSAMSG (x64: 56 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct WSAMSG
        {
            public byte* name;
            public int namelen;
            public WSABUF* lpBuffers;
            public uint dwBufferCount;
            public WSABUF Control;
            public uint dwFlags;
        }

        [LibraryImport(Libraries.Ws2_32, SetLastError = true)]
        internal static partial int WSASendTo(
            nint s,
            WSABUF* lpBuffers,
            uint dwBufferCount,
            uint* lpNumberOfBytesSent,
            uint dwFlags,
            byte* lpTo,
            int iTolen,
            NativeOverlapped* lpOverlapped,
            nint lpCompletionRoutine);

        [LibraryImport(Libraries.Ws2_32, SetLastError = true)]
        internal static partial int WSARecvFrom(
            nint s,
            WSABUF* lpBuffers,
            uint dwBufferCount,
            uint* lpNumberOfBytesRecvd,
            uint* lpFlags,
            byte* lpFrom,
            int* lpFromlen,
            NativeOverlapped* lpOverlapped,
            nint lpCompletionRoutine);

        /// <summary>WSARecvMsg, an extension function like AcceptEx (see <see cref="GetAcceptEx"/>); one lookup serves every family.</summary>
        internal static nint GetWSARecvMsg(nint socket, out int error) =>
            GetExtension(ref s_wsaRecvMsg, socket, s_wsaidWsaRecvMsg, out error);

        /// <summary>Calls WSARecvMsg through its extension pointer. Returns 0, or SOCKET_ERROR with
        /// <paramref name="error"/> holding the Winsock error (WSA_IO_PENDING when started).</summary>
        internal static int WSARecvMsg(nint function, nint s, WSAMSG* msg, uint* received, NativeOverlapped* overlapped, out int error)
        {
            Marshal.SetLastSystemError(0);
            int rc = ((delegate* unmanaged<nint, WSAMSG*, uint*, NativeOverlapped*, nint, int>)function)(s, msg, received, overlapped, 0);
            error = rc == 0 ? 0 : Marshal.GetLastSystemError();
            return rc;
        }
    }
}
