using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>getsockname/getpeername into an <see cref="IPEndPoint"/>, for every Linux backend.</summary>
/// <remarks>Computed on each call, not cached: an accepted connection has no runtime Socket to
/// keep them, and a connected socket's names do not change.</remarks>
[SupportedOSPlatform("linux")]
internal static unsafe class LinuxEndPoints
{
    public static EndPoint? Get(SafeHandle handle, AddressFamily family, bool peer)
    {
        const int Capacity = 128; // sizeof(struct sockaddr_storage)
        byte* buffer = stackalloc byte[Capacity];
        uint length = Capacity;
        bool added = false;
        int rc;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            rc = peer
                ? Interop.Sys.GetPeerName(fd, buffer, &length)
                : Interop.Sys.GetSockName(fd, buffer, &length);
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

        if (rc != 0 || length > Capacity)
        {
            return null;
        }

        var address = new SocketAddress(family, (int)length);
        new ReadOnlySpan<byte>(buffer, (int)length).CopyTo(address.Buffer.Span);
        if (family == AddressFamily.Unix)
        {
            return UnixEndPoint(address);
        }

        var endPoint = (IPEndPoint)new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(address);

        // An unbound socket reports the wildcard address with port 0; System.Net.Sockets says null.
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
