using System;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    private ProactorSocket Udp(AddressFamily family = AddressFamily.InterNetwork) =>
        ProactorSocket.CreateDatagram(Engine, new IPEndPoint(Net.Loopback(family), 0));

    private static EndPoint AnyEndPoint(AddressFamily family) =>
        new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);

    [TestCase(AddressFamily.InterNetwork)]
    [TestCase(AddressFamily.InterNetworkV6)]
    public async Task Datagrams_arrive_byte_exact_both_ways_with_their_sender(AddressFamily family)
    {
        using ProactorSocket a = Udp(family);
        using ProactorSocket b = Udp(family);
        byte[] ping = Net.Pattern(1200, seed: 1);
        byte[] pong = Net.Pattern(777, seed: 2);

        // a -> b with the receive pending first (the backend's asynchronous path) and the
        // EndPoint-returning form.
        byte[] bBuffer = new byte[2048];
        ValueTask<SocketReceiveFromResult> pending = b.ReceiveFromAsync(bBuffer, AnyEndPoint(family));
        Assert.That(await a.SendToAsync(ping, b.LocalEndPoint!).Timeout(), Is.EqualTo(ping.Length));
        SocketReceiveFromResult fromA = await pending.Timeout();
        Assert.That(fromA.ReceivedBytes, Is.EqualTo(ping.Length));
        Assert.That(bBuffer.AsSpan(0, fromA.ReceivedBytes).ToArray(), Is.EqualTo(ping));
        Assert.That(fromA.RemoteEndPoint, Is.EqualTo(a.LocalEndPoint));

        // b -> a with the datagram already there (the synchronous path) and the allocation-free
        // SocketAddress forms, replying to the address the receive reported.
        SocketAddress replyTo = ((IPEndPoint)fromA.RemoteEndPoint).Serialize();
        Assert.That(await b.SendToAsync(pong, SocketFlags.None, replyTo).Timeout(), Is.EqualTo(pong.Length));
        await Task.Delay(20);
        byte[] aBuffer = new byte[2048];
        var from = new SocketAddress(family);
        int n = await a.ReceiveFromAsync(aBuffer, SocketFlags.None, from).Timeout();
        Assert.That(n, Is.EqualTo(pong.Length));
        Assert.That(aBuffer.AsSpan(0, n).ToArray(), Is.EqualTo(pong));
        Assert.That(AnyEndPoint(family).Create(from), Is.EqualTo(b.LocalEndPoint));

        // An empty datagram is a datagram.
        ValueTask<SocketReceiveFromResult> empty = b.ReceiveFromAsync(bBuffer, AnyEndPoint(family));
        await a.SendToAsync(ReadOnlyMemory<byte>.Empty, b.LocalEndPoint!).Timeout();
        Assert.That((await empty.Timeout()).ReceivedBytes, Is.EqualTo(0));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_datagram_longer_than_the_buffer_fails_with_MessageSize_and_the_next_arrives_whole(bool pendingFirst)
    {
        using ProactorSocket a = Udp();
        using ProactorSocket b = Udp();
        byte[] small = new byte[10];
        ValueTask<SocketReceiveFromResult> receive = default;
        if (pendingFirst)
        {
            receive = b.ReceiveFromAsync(small, AnyEndPoint(AddressFamily.InterNetwork));
        }

        await a.SendToAsync(Net.Pattern(100), b.LocalEndPoint!).Timeout();
        if (!pendingFirst)
        {
            await Task.Delay(20);
            receive = b.ReceiveFromAsync(small, AnyEndPoint(AddressFamily.InterNetwork));
        }

        var e = await Expect.ThrowsAsync<SocketException>(async () => await receive.Timeout());
        Assert.That(e.SocketErrorCode, Is.EqualTo(SocketError.MessageSize));

        // The truncated datagram is gone; the next one arrives whole, also through connected receive.
        await a.SendToAsync(new byte[] { 9, 8, 7 }, b.LocalEndPoint!).Timeout();
        SocketReceiveFromResult next = await b.ReceiveFromAsync(small, AnyEndPoint(AddressFamily.InterNetwork)).Timeout();
        Assert.That(small.AsSpan(0, next.ReceivedBytes).ToArray(), Is.EqualTo(new byte[] { 9, 8, 7 }));
    }

    [Test]
    public async Task Many_datagrams_arrive_in_order_with_overlapping_receives_completing_in_submission_order()
    {
        using ProactorSocket a = Udp();
        using ProactorSocket b = Udp();
        const int Rounds = 20;
        const int Overlap = 16;
        byte[][] buffers = Enumerable.Range(0, Overlap).Select(_ => new byte[16]).ToArray();
        var receives = new ValueTask<SocketReceiveFromResult>[Overlap];
        for (int round = 0; round < Rounds; round++)
        {
            for (int i = 0; i < Overlap; i++)
            {
                receives[i] = b.ReceiveFromAsync(buffers[i], AnyEndPoint(AddressFamily.InterNetwork));
            }

            for (int i = 0; i < Overlap; i++)
            {
                await a.SendToAsync(BitConverter.GetBytes((round * Overlap) + i), b.LocalEndPoint!).Timeout();
            }

            for (int i = 0; i < Overlap; i++)
            {
                SocketReceiveFromResult r = await receives[i].Timeout();
                Assert.That(r.ReceivedBytes, Is.EqualTo(4));
                Assert.That(BitConverter.ToInt32(buffers[i]), Is.EqualTo((round * Overlap) + i), $"receive {i} of round {round}");
            }
        }
    }

    [Test]
    public async Task Cancelling_a_pending_ReceiveFrom_ends_it_once_and_closing_aborts_the_next()
    {
        using ProactorSocket a = Udp();
        ProactorSocket b = Udp();
        try
        {
            using var cts = new CancellationTokenSource();
            ValueTask<SocketReceiveFromResult> cancelled = b.ReceiveFromAsync(new byte[8], AnyEndPoint(AddressFamily.InterNetwork), cts.Token);
            await Task.Delay(30);
            Assert.That(cancelled.IsCompleted, Is.False);
            await cts.CancelAsync();
            var oce = await Expect.ThrowsAsync<OperationCanceledException>(async () => await cancelled.Timeout());
            Assert.That(oce.CancellationToken, Is.EqualTo(cts.Token));

            // The cancelled receive took nothing: the next datagram goes to the next receive.
            byte[] got = new byte[8];
            ValueTask<int> next = b.ReceiveFromAsync(got, SocketFlags.None, new SocketAddress(AddressFamily.InterNetwork));
            await a.SendToAsync(new byte[] { 5 }, b.LocalEndPoint!).Timeout();
            Assert.That(await next.Timeout(), Is.EqualTo(1));
            Assert.That(got[0], Is.EqualTo(5));

            int completions = 0;
            ValueTask<SocketReceiveFromResult> closed = b.ReceiveFromAsync(new byte[8], AnyEndPoint(AddressFamily.InterNetwork));
            Task<SocketReceiveFromResult> observed = closed.AsTask();
            _ = observed.ContinueWith(_ => Interlocked.Increment(ref completions), TaskScheduler.Default);
            await Task.Delay(30);
            b.Dispose();
            var e = await Expect.ThrowsAsync<SocketException>(async () => await observed.Timeout());
            Assert.That(e.SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));
            await Task.Delay(50);
            Assert.That(Volatile.Read(ref completions), Is.EqualTo(1));
        }
        finally
        {
            b.Dispose();
        }
    }

    [TestCase(AddressFamily.InterNetwork)]
    [TestCase(AddressFamily.InterNetworkV6)]
    public async Task ReceiveMessageFrom_reports_the_destination_address_and_interface(AddressFamily family)
    {
        using ProactorSocket a = Udp(family);
        using ProactorSocket b = ProactorSocket.CreateDatagram(Engine, new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
        var target = new IPEndPoint(Net.Loopback(family), ((IPEndPoint)b.LocalEndPoint!).Port);
        byte[] buffer = new byte[64];
        ValueTask<SocketReceiveMessageFromResult> receive = b.ReceiveMessageFromAsync(buffer, SocketFlags.None, AnyEndPoint(family));
        await a.SendToAsync(new byte[] { 1, 2, 3 }, target).Timeout();
        SocketReceiveMessageFromResult r = await receive.Timeout();

        Assert.That(r.ReceivedBytes, Is.EqualTo(3));
        Assert.That(r.RemoteEndPoint, Is.EqualTo(a.LocalEndPoint));
        Assert.That(r.SocketFlags & SocketFlags.Truncated, Is.EqualTo(SocketFlags.None));

        // The bound socket is the wildcard; only packet information can say the datagram was sent to loopback.
        Assert.That(r.PacketInformation.Address, Is.EqualTo(Net.Loopback(family)));
        int loopbackIndex = LoopbackInterfaceIndex(family);
        if (loopbackIndex > 0)
        {
            Assert.That(r.PacketInformation.Interface, Is.EqualTo(loopbackIndex));
        }
        else
        {
            Assert.That(r.PacketInformation.Interface, Is.GreaterThan(0));
        }
    }

    private static int LoopbackInterfaceIndex(AddressFamily family)
    {
        try
        {
            NetworkInterface? loopback = NetworkInterface.GetAllNetworkInterfaces()
                .FirstOrDefault(n => n.NetworkInterfaceType == NetworkInterfaceType.Loopback);
            IPInterfaceProperties? properties = loopback?.GetIPProperties();
            return family == AddressFamily.InterNetworkV6
                ? properties?.GetIPv6Properties()?.Index ?? 0
                : properties?.GetIPv4Properties()?.Index ?? 0;
        }
        catch (NetworkInformationException)
        {
            return 0;
        }
        catch (PlatformNotSupportedException)
        {
            return 0;
        }
    }

    [Test]
    public async Task Connected_datagram_sockets_use_SendAsync_and_ReceiveAsync()
    {
        using ProactorSocket a = Udp();
        using ProactorSocket b = Udp();
        using ProactorSocket stranger = Udp();
        await a.ConnectAsync(b.LocalEndPoint!).Timeout();
        await b.ConnectAsync(a.LocalEndPoint!).Timeout();
        Assert.That(a.RemoteEndPoint, Is.EqualTo(b.LocalEndPoint));

        // A connected socket receives only from its peer: the stranger's datagram is filtered out.
        await stranger.SendToAsync(new byte[] { 66 }, b.LocalEndPoint!).Timeout();
        byte[] buffer = new byte[16];
        ValueTask<int> receive = b.ReceiveAsync(buffer);
        Assert.That(await a.SendAsync(new byte[] { 1, 2, 3, 4 }).Timeout(), Is.EqualTo(4));
        Assert.That(await receive.Timeout(), Is.EqualTo(4));
        Assert.That(buffer.AsSpan(0, 4).ToArray(), Is.EqualTo(new byte[] { 1, 2, 3, 4 }));

        await b.SendAsync(new byte[] { 9 }).Timeout();
        Assert.That(await a.ReceiveAsync(buffer).Timeout(), Is.EqualTo(1));
        Assert.That(buffer[0], Is.EqualTo(9));

        // Truncation on the connected receive path too.
        ValueTask<int> small = b.ReceiveAsync(new byte[2]);
        await a.SendAsync(new byte[10]).Timeout();
        var e = await Expect.ThrowsAsync<SocketException>(async () => await small.Timeout());
        Assert.That(e.SocketErrorCode, Is.EqualTo(SocketError.MessageSize));
    }

    [Test]
    public void Broadcast_and_multicast_loopback_options_round_trip()
    {
        using ProactorSocket a = Udp();
        Assert.That(a.EnableBroadcast, Is.False);
        a.EnableBroadcast = true;
        Assert.That(a.EnableBroadcast, Is.True);
        a.MulticastLoopback = false;
        Assert.That(a.MulticastLoopback, Is.False);
        a.MulticastLoopback = true;
        Assert.That(a.MulticastLoopback, Is.True);
    }

    [Test]
    public async Task A_joined_multicast_group_receives_on_loopback_until_left()
    {
        using ProactorSocket receiver = ProactorSocket.CreateDatagram(Engine, new IPEndPoint(IPAddress.Any, 0));
        using ProactorSocket sender = Udp();
        IPAddress group = IPAddress.Parse("239.255.77.1");
        int port = ((IPEndPoint)receiver.LocalEndPoint!).Port;
        try
        {
            // Loopback only here: join on the loopback interface and send out of it.
            receiver.JoinMulticastGroup(group, IPAddress.Loopback);
            // IP_MULTICAST_IF takes the interface's address as the int of its bytes in network order.
            sender.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, BitConverter.ToInt32(IPAddress.Loopback.GetAddressBytes()));
        }
        catch (SocketException e)
        {
            Assert.Ignore($"This machine cannot join or route a multicast group on loopback ({e.SocketErrorCode}: {e.Message}).");
        }

        sender.MulticastLoopback = true;
        byte[] buffer = new byte[16];
        ValueTask<SocketReceiveFromResult> receive = receiver.ReceiveFromAsync(buffer, AnyEndPoint(AddressFamily.InterNetwork));
        try
        {
            await sender.SendToAsync(new byte[] { 4, 2 }, new IPEndPoint(group, port)).Timeout();
        }
        catch (SocketException e)
        {
            Assert.Ignore($"This machine has no route for multicast on loopback ({e.SocketErrorCode}).");
        }

        SocketReceiveFromResult r = await receive.Timeout();
        Assert.That(buffer.AsSpan(0, r.ReceivedBytes).ToArray(), Is.EqualTo(new byte[] { 4, 2 }));

        receiver.LeaveMulticastGroup(group, IPAddress.Loopback);
        Assert.Throws<SocketException>(() => receiver.LeaveMulticastGroup(group, IPAddress.Loopback),
            "leaving a group that is no longer joined");
    }

    [Test]
    public async Task Datagram_calls_refuse_bad_input_at_once_and_the_socket_stays_usable()
    {
        using ProactorSocket udp = Udp();
        using ProactorSocket peer = Udp();
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            EndPoint v6 = new IPEndPoint(IPAddress.IPv6Loopback, 9);
            var family = Assert.Throws<ArgumentException>(() => _ = udp.SendToAsync(new byte[1], v6))!;
            Assert.That(family.Message, Does.Contain("InterNetworkV6").And.Contain("InterNetwork"));
            Assert.Throws<ArgumentException>(() => _ = udp.ReceiveFromAsync(new byte[1], v6));
            Assert.Throws<ArgumentException>(() => _ = udp.ReceiveFromAsync(new byte[1], SocketFlags.None, new SocketAddress(AddressFamily.InterNetworkV6)));
            Assert.Throws<ArgumentException>(() => _ = udp.SendToAsync(new byte[1], SocketFlags.None, new SocketAddress(AddressFamily.InterNetworkV6)));
            Assert.Throws<ArgumentNullException>(() => _ = udp.SendToAsync(new byte[1], null!));
            Assert.Throws<ArgumentException>(() => _ = udp.ReceiveFromAsync(new byte[1], SocketFlags.OutOfBand, AnyEndPoint(AddressFamily.InterNetwork)));
            Assert.Throws<ArgumentException>(() => _ = udp.SendToAsync(new byte[1], SocketFlags.Peek, peer.LocalEndPoint!));

            var tooLong = Assert.Throws<ArgumentException>(() => _ = udp.SendToAsync(new byte[ProactorSocket.MaxDatagramSizeIPv4 + 1], peer.LocalEndPoint!))!;
            Assert.That(tooLong.Message, Does.Contain("65507"));

            // Datagram calls on a stream socket, and stream calls on a datagram socket.
            var onStream = Assert.Throws<InvalidOperationException>(() => _ = client.SendToAsync(new byte[1], peer.LocalEndPoint!))!;
            Assert.That(onStream.Message, Does.Contain("CreateDatagram"));
            Assert.Throws<InvalidOperationException>(() => _ = client.ReceiveFromAsync(new byte[1], AnyEndPoint(AddressFamily.InterNetwork)));
            Assert.Throws<InvalidOperationException>(() => _ = client.ReceiveMessageFromAsync(new byte[1], SocketFlags.None, AnyEndPoint(AddressFamily.InterNetwork)));
            Assert.Throws<InvalidOperationException>(() => client.JoinMulticastGroup(IPAddress.Parse("239.1.1.1")));
            Assert.Throws<InvalidOperationException>(() => udp.Listen());
            Assert.Throws<ArgumentException>(() => udp.JoinMulticastGroup(IPAddress.Loopback));

            // Nothing refused held an operation: the socket still sends and receives, one of each at a time.
            ValueTask<SocketReceiveFromResult> receive = peer.ReceiveFromAsync(new byte[4], AnyEndPoint(AddressFamily.InterNetwork));
            await udp.SendToAsync(new byte[] { 3 }, peer.LocalEndPoint!).Timeout();
            Assert.That((await receive.Timeout()).ReceivedBytes, Is.EqualTo(1));
        }

        udp.Dispose();
        Assert.Throws<ObjectDisposedException>(() => _ = udp.SendToAsync(new byte[1], peer.LocalEndPoint!));
    }
}
