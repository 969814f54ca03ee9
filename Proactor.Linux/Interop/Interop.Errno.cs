using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Proactor.Linux;

internal static partial class Interop
{
    /// <summary>Linux errno values (asm-generic, as on x86-64 and arm64).</summary>
    internal static class Errno
    {
        internal const int EPERM = 1;
        internal const int EINTR = 4;
        internal const int EBADF = 9;
        internal const int EAGAIN = 11;
        internal const int ENOMEM = 12;
        internal const int EACCES = 13;
        internal const int EFAULT = 14;
        internal const int EINVAL = 22;
        internal const int ENFILE = 23;
        internal const int EMFILE = 24;
        internal const int EPIPE = 32;
        internal const int ENOSYS = 38;
        internal const int ENOTSOCK = 88;
        internal const int EMSGSIZE = 90;
        internal const int EPROTONOSUPPORT = 93;
        internal const int EOPNOTSUPP = 95;
        internal const int EAFNOSUPPORT = 97;
        internal const int EADDRINUSE = 98;
        internal const int EADDRNOTAVAIL = 99;
        internal const int ENETDOWN = 100;
        internal const int ENETUNREACH = 101;
        internal const int ENETRESET = 102;
        internal const int ECONNABORTED = 103;
        internal const int ECONNRESET = 104;
        internal const int ENOBUFS = 105;
        internal const int EISCONN = 106;
        internal const int ENOTCONN = 107;
        internal const int ESHUTDOWN = 108;
        internal const int ETIMEDOUT = 110;
        internal const int ECONNREFUSED = 111;
        internal const int ENOENT = 2;
        internal const int EHOSTDOWN = 112;
        internal const int EHOSTUNREACH = 113;
        internal const int EALREADY = 114;
        internal const int EINPROGRESS = 115;
        internal const int ECANCELED = 125;

        /// <summary>errno of the last call made through an import with SetLastError.</summary>
        internal static int Last => Marshal.GetLastPInvokeError();

        /// <summary>The SocketError System.Net.Sockets reports for the same errno.</summary>
        internal static SocketError ToSocketError(int errno) => errno switch
        {
            0 => SocketError.Success,
            EAGAIN => SocketError.WouldBlock,
            EINTR => SocketError.Interrupted,
            EBADF => SocketError.OperationAborted,
            ECANCELED => SocketError.OperationAborted,
            EACCES or EPERM => SocketError.AccessDenied,
            EFAULT => SocketError.Fault,
            EINVAL => SocketError.InvalidArgument,
            EMFILE or ENFILE => SocketError.TooManyOpenSockets,
            EPIPE => SocketError.Shutdown,
            ESHUTDOWN => SocketError.Shutdown,
            ENOTSOCK => SocketError.NotSocket,
            EMSGSIZE => SocketError.MessageSize,
            EPROTONOSUPPORT => SocketError.ProtocolNotSupported,
            EOPNOTSUPP => SocketError.OperationNotSupported,
            EAFNOSUPPORT => SocketError.AddressFamilyNotSupported,
            EADDRINUSE => SocketError.AddressAlreadyInUse,
            EADDRNOTAVAIL => SocketError.AddressNotAvailable,
            ENETDOWN => SocketError.NetworkDown,
            ENETUNREACH => SocketError.NetworkUnreachable,
            ENETRESET => SocketError.NetworkReset,
            ECONNABORTED => SocketError.ConnectionAborted,
            ECONNRESET => SocketError.ConnectionReset,
            ENOBUFS or ENOMEM => SocketError.NoBufferSpaceAvailable,
            EISCONN => SocketError.IsConnected,
            ENOTCONN => SocketError.NotConnected,
            ETIMEDOUT => SocketError.TimedOut,
            ECONNREFUSED => SocketError.ConnectionRefused,
            ENOENT => SocketError.AddressNotAvailable, // a Unix socket path that does not exist, as .NET maps it
            EHOSTDOWN => SocketError.HostDown,
            EHOSTUNREACH => SocketError.HostUnreachable,
            EALREADY => SocketError.AlreadyInProgress,
            EINPROGRESS => SocketError.InProgress,
            _ => SocketError.SocketError,
        };
    }
}
