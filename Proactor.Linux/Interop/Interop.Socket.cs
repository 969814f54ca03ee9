using System.Runtime.InteropServices;

namespace Proactor.Linux;

internal static unsafe partial class Interop
{
    internal static partial class Sys
    {
        internal const int MSG_PEEK = 0x2;
        internal const int MSG_DONTWAIT = 0x40;
        internal const int MSG_NOSIGNAL = 0x4000;
        internal const int SOCK_NONBLOCK = 0x800;
        internal const int SOCK_CLOEXEC = 0x80000;
        internal const int SOL_SOCKET = 1;
        internal const int SO_ERROR = 4;
        internal const int SO_LINGER = 13;
        internal const int SO_REUSEPORT = 15;
        internal const int SO_SNDBUF = 7;
        internal const int SO_RCVBUF = 8;
        internal const int SO_KEEPALIVE = 9;
        internal const int IPPROTO_TCP = 6;
        internal const int TCP_NODELAY = 1;
        internal const int TCP_INQ = 36; // also the control message's type, TCP_CM_INQ

        [LibraryImport(Libraries.Libc, EntryPoint = "recv", SetLastError = true)]
        internal static partial nint Recv(int sockfd, byte* buf, nuint len, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "send", SetLastError = true)]
        internal static partial nint Send(int sockfd, byte* buf, nuint len, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "sendfile", SetLastError = true)]
        internal static partial nint SendFile(int outFd, int inFd, long* offset, nuint count);

        [LibraryImport(Libraries.Libc, EntryPoint = "accept4", SetLastError = true)]
        internal static partial int Accept4(int sockfd, byte* addr, uint* addrlen, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "connect", SetLastError = true)]
        internal static partial int Connect(int sockfd, byte* addr, uint addrlen);

        [LibraryImport(Libraries.Libc, EntryPoint = "getsockname", SetLastError = true)]
        internal static partial int GetSockName(int sockfd, byte* addr, uint* addrlen);

        [LibraryImport(Libraries.Libc, EntryPoint = "getpeername", SetLastError = true)]
        internal static partial int GetPeerName(int sockfd, byte* addr, uint* addrlen);

        [LibraryImport(Libraries.Libc, EntryPoint = "getsockopt", SetLastError = true)]
        internal static partial int GetSockOpt(int sockfd, int level, int optname, void* optval, uint* optlen);

        [LibraryImport(Libraries.Libc, EntryPoint = "setsockopt", SetLastError = true)]
        internal static partial int SetSockOpt(int sockfd, int level, int optname, void* optval, uint optlen);

        [LibraryImport(Libraries.Libc, EntryPoint = "shutdown", SetLastError = true)]
        internal static partial int Shutdown(int sockfd, int how);
    }
}
