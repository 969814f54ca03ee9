using System;
using System.Net;
using System.Net.Sockets;

namespace Proactor;

/// <summary>A socket's name as getsockname/getpeername write it (a sockaddr of the socket's
/// family) into the <see cref="EndPoint"/> System.Net.Sockets would report, for every backend.</summary>
internal static class SocketNames
{
    /// <summary>Null for no name: one shorter than its family field, or an unbound socket's
    /// wildcard address with port 0 (as Linux and some Winsock stacks report it instead of failing).</summary>
    public static EndPoint? ToEndPoint(AddressFamily family, ReadOnlySpan<byte> name)
    {
        if (name.Length < 2)
        {
            return null;
        }

        var address = new SocketAddress(family, name.Length);
        name.CopyTo(address.Buffer.Span);
        if (family == AddressFamily.Unix)
        {
            // An unnamed Unix socket (a connecting client's own) is an end point with an empty
            // path, not null, as Socket.LocalEndPoint reports it.
            return (UnixDomainSocketEndPoint)UnixTemplate.Instance.Create(address);
        }

        var endPoint = (IPEndPoint)(family == AddressFamily.InterNetworkV6 ? s_ipv6Template : s_ipv4Template).Create(address);
        return endPoint.Port == 0 && (endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any))
            ? null
            : endPoint;
    }

    private static readonly IPEndPoint s_ipv4Template = new(IPAddress.Any, 0);
    private static readonly IPEndPoint s_ipv6Template = new(IPAddress.IPv6Any, 0);

    /// <summary>Made only when a Unix name is first converted: under Wine, creating a
    /// UnixDomainSocketEndPoint hangs the IOCP backend's tests, so IP sockets must never make it.</summary>
    private static class UnixTemplate
    {
        public static readonly UnixDomainSocketEndPoint Instance = new("x");
    }
}
