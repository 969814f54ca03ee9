using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    /// <summary>Segments of assorted sizes (empty ones included) cut from <paramref name="data"/>.</summary>
    private static List<ArraySegment<byte>> Cut(byte[] data, int seed)
    {
        var random = new Random(seed);
        var segments = new List<ArraySegment<byte>>();
        int offset = 0;
        while (offset < data.Length)
        {
            int length = random.Next(4) == 0 ? 0 : Math.Min(data.Length - offset, random.Next(1, 64 * 1024));

            // Each segment in its own array, at an offset, so a wrong base or length shows in the bytes.
            byte[] array = new byte[length + 7];
            data.AsSpan(offset, length).CopyTo(array.AsSpan(3));
            segments.Add(new ArraySegment<byte>(array, 3, length));
            offset += length;
        }

        return segments;
    }

    [Test]
    public async Task A_gather_send_of_many_segments_arrives_as_their_concatenation()
    {
        int seed = TestContext.CurrentContext.Random.Next();
        TestContext.Out.WriteLine($"seed {seed}");
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            // Far more than the (small) socket buffers: the kernel takes it in pieces, and each
            // resumption must start mid-segment where the last one ended.
            client.SendBufferSize = 16 * 1024;
            server.ReceiveBufferSize = 16 * 1024;
            byte[] data = Net.Pattern(3 * 1024 * 1024, seed);
            List<ArraySegment<byte>> segments = Cut(data, seed);
            byte[] received = new byte[data.Length];
            Task receive = Net.ReceiveExactlyAsync(server, received);
            Assert.That(await client.SendAsync(segments).Timeout(), Is.EqualTo(data.Length));
            await receive.Timeout();
            Assert.That(received.AsSpan().SequenceEqual(data), Is.True, "the received bytes differ from the concatenation of the segments");
        }
    }

    [Test]
    public async Task A_sequence_of_more_segments_than_one_call_takes_arrives_whole()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            // 3000 segments: more than IOV_MAX (1024), so the send goes in several gather calls.
            byte[] data = Net.Pattern(3000 * 333, seed: 5);
            ReadOnlySequence<byte> sequence = Sequence(data, 333);
            Assert.That(sequence.IsSingleSegment, Is.False);
            byte[] received = new byte[data.Length];
            Task receive = Net.ReceiveExactlyAsync(server, received);
            Assert.That(await client.SendAsync(sequence).Timeout(), Is.EqualTo(data.Length));
            await receive.Timeout();
            Assert.That(received.AsSpan().SequenceEqual(data), Is.True);

            // A datagram's gather send is one datagram.
            using ProactorSocket a = Udp();
            using ProactorSocket b = Udp();
            await a.ConnectAsync(b.LocalEndPoint!).Timeout();
            byte[] datagram = Net.Pattern(1000, seed: 6);
            ValueTask<SocketReceiveFromResult> one = b.ReceiveFromAsync(new byte[2000], AnyEndPoint(AddressFamily.InterNetwork));
            Assert.That(await a.SendAsync(Sequence(datagram, 100)).Timeout(), Is.EqualTo(1000));
            Assert.That((await one.Timeout()).ReceivedBytes, Is.EqualTo(1000));
        }
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
    {
        public Chunk(ReadOnlyMemory<byte> memory, Chunk? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }

    private static ReadOnlySequence<byte> Sequence(byte[] data, int chunk)
    {
        Chunk first = new(data.AsMemory(0, Math.Min(chunk, data.Length)), null);
        Chunk last = first;
        for (int offset = chunk; offset < data.Length; offset += chunk)
        {
            last = new Chunk(data.AsMemory(offset, Math.Min(chunk, data.Length - offset)), last);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    [Test]
    public async Task A_scatter_receive_fills_the_segments_in_order()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            byte[] first = new byte[12], second = new byte[20], third = new byte[200];
            var segments = new List<ArraySegment<byte>>
            {
                new(first, 1, 10),
                new(second, 0, 0),
                new(second, 0, 20),
                new(third, 0, 200),
            };

            ValueTask<int> receive = server.ReceiveAsync(segments);
            byte[] data = Net.Pattern(100, seed: 3);
            await client.SendAsync(data).Timeout();
            int n = await receive.Timeout();

            // One scatter call takes what is there; TCP may deliver the 100 bytes in two reads.
            Assert.That(n, Is.InRange(1, 100));
            byte[] gathered = first.Skip(1).Take(10).Concat(second).Concat(third).Take(n).ToArray();
            Assert.That(gathered, Is.EqualTo(data.Take(n).ToArray()));
            Assert.That(first[0] == 0 && first[11] == 0, Is.True, "bytes outside the first segment were written");
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Peek_returns_the_data_and_leaves_it_for_the_next_receive(bool pendingFirst)
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            byte[] peeked = new byte[16];
            ValueTask<int> peek = default;
            if (pendingFirst)
            {
                peek = server.ReceiveAsync(peeked, SocketFlags.Peek);
            }

            await client.SendAsync(new byte[] { 1, 2, 3 }).Timeout();
            if (!pendingFirst)
            {
                await Task.Delay(20);
                peek = server.ReceiveAsync(peeked, SocketFlags.Peek);
            }

            int n = await peek.Timeout();
            Assert.That(peeked.AsSpan(0, n).ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }.Take(n).ToArray()));

            byte[] got = new byte[3];
            await Net.ReceiveExactlyAsync(server, got);
            Assert.That(got, Is.EqualTo(new byte[] { 1, 2, 3 }), "the peeked bytes were consumed");

            // Peek on a datagram socket leaves the datagram too.
            using ProactorSocket a = Udp();
            using ProactorSocket b = Udp();
            await a.SendToAsync(new byte[] { 7, 7 }, b.LocalEndPoint!).Timeout();
            var from = new SocketAddress(AddressFamily.InterNetwork);
            Assert.That(await b.ReceiveFromAsync(new byte[8], SocketFlags.Peek, from).Timeout(), Is.EqualTo(2));
            Assert.That(await b.ReceiveFromAsync(new byte[8], SocketFlags.None, from).Timeout(), Is.EqualTo(2));
        }
    }

    [Test]
    public async Task An_out_of_band_byte_is_received_with_OutOfBand_and_not_in_the_stream()
    {
        using ProactorSocket listener = Net.Listen(Engine);
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        await peer.ConnectAsync(listener.LocalEndPoint!).WaitAsync(Net.StepTimeout);
        using ProactorSocket server = await accept.Timeout();

        peer.Send(new byte[] { (byte)'a' });
        peer.Send(new byte[] { (byte)'!' }, SocketFlags.OutOfBand);
        peer.Send(new byte[] { (byte)'b' });

        // The urgent byte is read apart (SO_OOBINLINE is off), before the stream passes its mark:
        // Linux discards it once a normal read has gone beyond it. An out-of-band receive does not
        // wait for an urgent byte that was not announced yet (EINVAL), so try again until it is.
        byte[] urgent = new byte[1];
        int got = 0;
        for (int attempt = 0; got == 0; attempt++)
        {
            try
            {
                got = await server.ReceiveAsync(urgent, SocketFlags.OutOfBand).Timeout();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.InvalidArgument && attempt < 300)
            {
                await Task.Delay(10);
            }
        }

        Assert.That(got, Is.EqualTo(1));
        Assert.That(urgent[0], Is.EqualTo((byte)'!'));

        // The stream carries a and b only.
        byte[] stream = new byte[2];
        await Net.ReceiveExactlyAsync(server, stream);
        Assert.That(stream, Is.EqualTo(new byte[] { (byte)'a', (byte)'b' }));
    }

    [Test]
    public async Task Vector_and_flag_calls_refuse_bad_input_at_once_and_the_socket_stays_usable()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            Assert.Throws<ArgumentNullException>(() => _ = client.SendAsync((IList<ArraySegment<byte>>)null!));
            var noArray = Assert.Throws<ArgumentException>(() => _ = client.SendAsync(new List<ArraySegment<byte>> { new byte[1], default }))!;
            Assert.That(noArray.Message, Does.Contain("Segment 1"));
            var tooMany = Assert.Throws<ArgumentException>(() =>
                _ = server.ReceiveAsync(Enumerable.Range(0, 1025).Select(_ => new ArraySegment<byte>(new byte[1])).ToList()))!;
            Assert.That(tooMany.Message, Does.Contain("1024"));
            Assert.Throws<ArgumentException>(() => _ = server.ReceiveAsync(new byte[1], SocketFlags.DontRoute));

            using ProactorSocket udp = Udp();
            Assert.Throws<ArgumentException>(() =>
                _ = udp.SendAsync(new List<ArraySegment<byte>> { new byte[40000], new byte[40000] }), "a gather datagram larger than UDP carries");
            Assert.Throws<ArgumentException>(() =>
                _ = udp.SendAsync(Sequence(new byte[2000], 1)), "a datagram of more segments than one call takes");

            // Nothing refused held an operation or a buffer: both directions still work.
            byte[] got = new byte[2];
            ValueTask<int> receive = server.ReceiveAsync(new List<ArraySegment<byte>> { new(got, 0, 1), new(got, 1, 1) });
            await client.SendAsync(new List<ArraySegment<byte>> { new byte[] { 4 }, new byte[] { 2 } }).Timeout();
            int n = await receive.Timeout();
            if (n == 1)
            {
                await server.ReceiveAsync(got.AsMemory(1)).Timeout();
            }

            Assert.That(got, Is.EqualTo(new byte[] { 4, 2 }));
        }
    }
}
