using System;
using System.Net;
using System.Net.Sockets;

namespace Proactor.Windows;

/// <summary>
/// getsockname/getpeername into an <see cref="IPEndPoint"/>. Asked of Winsock directly, not of
/// <see cref="Socket"/>: a socket connected by ConnectEx or AcceptEx is connected behind
/// System.Net.Sockets' back, so its cached end points would say null.
/// </summary>
internal static unsafe class WindowsEndPoints
{
    public static EndPoint? Get(Socket socket, bool peer)
    {
        const int Capacity = 128; // sizeof(SOCKADDR_STORAGE)
        byte* buffer = stackalloc byte[Capacity];
        int length = Capacity;
        SafeSocketHandle handle = socket.SafeHandle;
        bool added = false;
        int rc;
        try
        {
            handle.DangerousAddRef(ref added);
            nint s = handle.DangerousGetHandle();
            rc = peer
                ? Interop.Winsock.GetPeerName(s, buffer, &length)
                : Interop.Winsock.GetSockName(s, buffer, &length);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        // Unbound (WSAEINVAL) or unconnected (WSAENOTCONN): no end point, as System.Net.Sockets says.
        return rc != 0 || length > Capacity
            ? null
            : SocketNames.ToEndPoint(socket.AddressFamily, new ReadOnlySpan<byte>(buffer, length));
    }
}
