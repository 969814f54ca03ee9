using System;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    private static async Task AssertCarriesBytesAsync(ProactorSocket client, ProactorSocket server)
    {
        await client.SendAsync(new byte[] { 3, 1, 4 }).Timeout();
        byte[] got = new byte[3];
        await Net.ReceiveExactlyAsync(server, got).Timeout();
        Assert.That(got, Is.EqualTo(new byte[] { 3, 1, 4 }));
    }

    [Test]
    public async Task Connecting_to_several_addresses_skips_the_refusing_one_and_connects_to_the_next()
    {
        // Only IPv4 listens: ::1 on that port refuses, 127.0.0.1 accepts. A dual-mode client can try both.
        using ProactorSocket listener = Net.Listen(Engine, AddressFamily.InterNetwork);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        using var client = new ProactorSocket(Engine, AddressFamily.InterNetworkV6) { DualMode = true };
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        await client.ConnectAsync([IPAddress.IPv6Loopback, IPAddress.Loopback], port).Timeout();
        using ProactorSocket server = await accept.Timeout();

        Assert.That(client.Connected, Is.True, "connected after the first address failed");
        var remote = (IPEndPoint)client.RemoteEndPoint!;
        Assert.That(remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address, Is.EqualTo(IPAddress.Loopback));
        await AssertCarriesBytesAsync(client, server);
    }

    [Test]
    public async Task Connecting_by_host_name_resolves_and_tries_each_address_as_Socket_does()
    {
        // "localhost" may resolve to ::1 first, 127.0.0.1 first, or 127.0.0.1 alone: with only IPv4
        // listening and a dual-mode client, whatever comes first, an IPv4 address is reached.
        using ProactorSocket listener = Net.Listen(Engine, AddressFamily.InterNetwork);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        using var byName = new ProactorSocket(Engine, AddressFamily.InterNetworkV6) { DualMode = true };
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        await byName.ConnectAsync("localhost", port).Timeout();
        using (ProactorSocket server = await accept.Timeout())
        {
            await AssertCarriesBytesAsync(byName, server);
        }

        using var byEndPoint = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        accept = listener.AcceptAsync();
        await byEndPoint.ConnectAsync(new DnsEndPoint("localhost", port)).Timeout();
        using (ProactorSocket server = await accept.Timeout())
        {
            await AssertCarriesBytesAsync(byEndPoint, server);
        }
    }

    [Test]
    public async Task A_host_name_whose_every_address_refuses_fails_with_the_last_error()
    {
        using var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        var e = await Expect.ThrowsAsync<SocketException>(async () =>
            await client.ConnectAsync(new DnsEndPoint("localhost", Net.ClosedPort().Port)).Timeout());
        Assert.That(e!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused));
        Assert.That(client.Connected, Is.False);
    }

    [Test]
    public async Task Addresses_of_no_usable_family_fail_with_AddressFamilyNotSupported()
    {
        using var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        var e = await Expect.ThrowsAsync<SocketException>(async () =>
            await client.ConnectAsync([IPAddress.IPv6Loopback], 80).Timeout());
        Assert.That(e!.SocketErrorCode, Is.EqualTo(SocketError.AddressFamilyNotSupported));
        Assert.That(e.Message, Does.Contain("InterNetwork"));
    }

    [Test]
    public void Name_connects_validate_their_arguments_at_once()
    {
        using var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        Assert.Throws<ArgumentNullException>(() => _ = client.ConnectAsync((string)null!, 80));
        Assert.Throws<ArgumentException>(() => _ = client.ConnectAsync("", 80));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = client.ConnectAsync("localhost", 70000));
        Assert.Throws<ArgumentException>(() => _ = client.ConnectAsync(Array.Empty<IPAddress>(), 80));
        Assert.Throws<ArgumentNullException>(() => _ = client.ConnectAsync([null!], 80));
        Assert.Throws<NotSupportedException>(() => _ = client.DualMode);
        Assert.Throws<ArgumentException>(() => ProactorSocket.CreateListener(Engine, new IPEndPoint(IPAddress.Loopback, 0), dualMode: true));
        Assert.That(Engine.SocketCount, Is.EqualTo(1), "nothing refused stayed open");
    }

    [Test]
    public async Task A_listener_on_IPv6Any_is_IPv6_only_by_default_and_dual_mode_on_request_as_in_dotnet()
    {
        using (var reference = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp))
        using (ProactorSocket plain = ProactorSocket.CreateListener(Engine, new IPEndPoint(IPAddress.IPv6Any, 0)))
        {
            Assert.That(plain.DualMode, Is.EqualTo(reference.DualMode), "the default matches System.Net.Sockets'");
            Assert.That(plain.DualMode, Is.False);
            using var v4 = new ProactorSocket(Engine, AddressFamily.InterNetwork);
            var refused = await Expect.ThrowsAsync<SocketException>(async () =>
                await v4.ConnectAsync(new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)plain.LocalEndPoint!).Port)).Timeout());
            Assert.That(refused!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused));
        }

        using ProactorSocket dual = ProactorSocket.CreateListener(Engine, new IPEndPoint(IPAddress.IPv6Any, 0), dualMode: true);
        Assert.That(dual.DualMode, Is.True);
        int port = ((IPEndPoint)dual.LocalEndPoint!).Port;
        foreach (AddressFamily family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            using var client = new ProactorSocket(Engine, family);
            ValueTask<ProactorSocket> accept = dual.AcceptAsync();
            await client.ConnectAsync(new IPEndPoint(Net.Loopback(family), port)).Timeout();
            using ProactorSocket server = await accept.Timeout();
            var remote = (IPEndPoint)server.RemoteEndPoint!;
            Assert.That(remote.AddressFamily, Is.EqualTo(AddressFamily.InterNetworkV6));
            Assert.That(remote.Address.IsIPv4MappedToIPv6, Is.EqualTo(family == AddressFamily.InterNetwork), "an IPv4 client appears IPv4-mapped");
            await AssertCarriesBytesAsync(client, server);
        }
    }
}
