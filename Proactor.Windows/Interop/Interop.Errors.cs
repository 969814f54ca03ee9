using System.Net.Sockets;

namespace Proactor.Windows;

internal static partial class Interop
{
    /// <summary>Win32 / Winsock error codes the backend tells apart, and their <see cref="SocketError"/>.</summary>
    internal static class Errors
    {
        internal const int WSA_IO_PENDING = 997;      // == ERROR_IO_PENDING
        internal const int WSAEINVAL = 10022;
        internal const int ERROR_NETNAME_DELETED = 64;
        internal const int ERROR_OPERATION_ABORTED = 995;
        internal const int ERROR_CONNECTION_REFUSED = 1225;
        internal const int ERROR_CONNECTION_ABORTED = 1236;
        internal const int ERROR_CONNECTION_INVALID = 1229;
        internal const int ERROR_SEM_TIMEOUT = 121;
        internal const int ERROR_NETWORK_UNREACHABLE = 1231;
        internal const int ERROR_HOST_UNREACHABLE = 1232;
        internal const int ERROR_PORT_UNREACHABLE = 1234;

        /// <summary>
        /// Winsock codes are the <see cref="SocketError"/> values themselves (WSAECONNRESET is
        /// ConnectionReset, WSA_OPERATION_ABORTED is OperationAborted). A few plain Win32 codes can
        /// still surface (an OVERLAPPED status translated by kernel32 rather than ws2_32); they are
        /// mapped the way System.Net.Sockets maps them, so callers see what Linux reports.
        /// </summary>
        internal static SocketError ToSocketError(int error) => error switch
        {
            0 => SocketError.Success,
            ERROR_NETNAME_DELETED => SocketError.ConnectionReset,
            ERROR_CONNECTION_REFUSED or ERROR_PORT_UNREACHABLE => SocketError.ConnectionRefused,
            ERROR_CONNECTION_ABORTED => SocketError.ConnectionAborted,
            ERROR_CONNECTION_INVALID => SocketError.NotConnected,
            ERROR_SEM_TIMEOUT => SocketError.TimedOut,
            ERROR_NETWORK_UNREACHABLE => SocketError.NetworkUnreachable,
            ERROR_HOST_UNREACHABLE => SocketError.HostUnreachable,
            _ => (SocketError)error,
        };
    }
}
