using System.Runtime.InteropServices;
using System.Threading;

namespace Proactor.Windows;

internal static unsafe partial class Interop
{
    internal static partial class Winsock
    {
        internal const int SOCKET_ERROR = -1;
        internal const int SOL_SOCKET = 0xFFFF;
        internal const int SO_UPDATE_ACCEPT_CONTEXT = 0x700B;
        internal const int SO_UPDATE_CONNECT_CONTEXT = 0x7010;
        internal const uint SIO_GET_EXTENSION_FUNCTION_POINTER = 0xC8000006;

        /// <summary>One scatter/gather element (WSABUF).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct WSABUF
        {
            public uint len;
            public byte* buf;
        }

        [LibraryImport(Libraries.Ws2_32, SetLastError = true)]
        internal static partial int WSARecv(
            nint s,
            WSABUF* lpBuffers,
            uint dwBufferCount,
            uint* lpNumberOfBytesRecvd,
            uint* lpFlags,
            NativeOverlapped* lpOverlapped,
            nint lpCompletionRoutine);

        [LibraryImport(Libraries.Ws2_32, SetLastError = true)]
        internal static partial int WSASend(
            nint s,
            WSABUF* lpBuffers,
            uint dwBufferCount,
            uint* lpNumberOfBytesSent,
            uint dwFlags,
            NativeOverlapped* lpOverlapped,
            nint lpCompletionRoutine);

        [LibraryImport(Libraries.Ws2_32, SetLastError = true)]
        internal static partial int WSAIoctl(
            nint s,
            uint dwIoControlCode,
            void* lpvInBuffer,
            uint cbInBuffer,
            void* lpvOutBuffer,
            uint cbOutBuffer,
            uint* lpcbBytesReturned,
            NativeOverlapped* lpOverlapped,
            nint lpCompletionRoutine);

        /// <summary>The Winsock error of a finished overlapped operation (the packet carries only an NTSTATUS).</summary>
        [LibraryImport(Libraries.Ws2_32, SetLastError = true)]
        internal static partial int WSAGetOverlappedResult(nint s, NativeOverlapped* lpOverlapped, uint* lpcbTransfer, int fWait, uint* lpdwFlags);

        [LibraryImport(Libraries.Ws2_32, EntryPoint = "setsockopt", SetLastError = true)]
        internal static partial int SetSockOpt(nint s, int level, int optname, void* optval, int optlen);

        [LibraryImport(Libraries.Ws2_32, EntryPoint = "getsockname", SetLastError = true)]
        internal static partial int GetSockName(nint s, byte* name, int* namelen);

        [LibraryImport(Libraries.Ws2_32, EntryPoint = "getpeername", SetLastError = true)]
        internal static partial int GetPeerName(nint s, byte* name, int* namelen);
    }
}
