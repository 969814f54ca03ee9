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
        if (rc != 0 || length > Capacity || length < 2)
        {
            return null;
        }

        AddressFamily family = socket.AddressFamily;
        var address = new SocketAddress(family, length);
        new ReadOnlySpan<byte>(buffer, length).CopyTo(address.Buffer.Span);
        if (family == AddressFamily.Unix)
        {
            return UnixEndPoint(address);
        }

        var endPoint = (IPEndPoint)new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(address);

        // Some stacks report an unbound socket as the wildcard with port 0 instead of failing.
        return endPoint.Port == 0 && (endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any))
            ? null
            : endPoint;
    }

    /// <summary>A Unix domain address. An unnamed one (a connecting client's own) is an end point
    /// with an empty path, not null, as <see cref="Socket.LocalEndPoint"/> reports it.</summary>
    private static UnixDomainSocketEndPoint UnixEndPoint(SocketAddress address) =>
        (UnixDomainSocketEndPoint)s_unixTemplate.Create(address);

    private static readonly UnixDomainSocketEndPoint s_unixTemplate = new("x");
}
