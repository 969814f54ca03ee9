using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>
/// Scatter receives and datagram gather sends move exactly their segments' bytes, also where a
/// backend stages them in one contiguous buffer (the managed backend rents one per call, larger
/// than asked): no byte more is taken from the stream or put into the datagram.
/// </summary>
public abstract partial class ConformanceTests
{
    [Test]
    public async Task A_scatter_receive_takes_no_more_than_its_segments_hold_and_the_rest_stays_for_the_next_receive()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            byte[] data = Net.Pattern(100, seed: 5);
            await client.SendAsync(data).Timeout();

            // Peek until all 100 bytes wait in the receive buffer, so the scatter receive has more
            // than its segments hold (a bounded loop: TCP may deliver them in pieces).
            byte[] peeked = new byte[data.Length];
            int available = 0;
            for (int i = 0; i < 500 && available < data.Length; i++)
            {
                available = await server.ReceiveAsync(peeked, SocketFlags.Peek).Timeout();
                if (available < data.Length)
                {
                    await Engine.Delay(TimeSpan.FromMilliseconds(10)).Timeout();
                }
            }

            Assert.That(available, Is.EqualTo(data.Length), "the 100 bytes did not all arrive");

            byte[] first = new byte[10], second = new byte[20];
            var segments = new List<ArraySegment<byte>> { new(first), new(second) };
            Assert.That(await server.ReceiveAsync(segments).Timeout(), Is.EqualTo(30));
            Assert.That(first.Concat(second).ToArray(), Is.EqualTo(data.Take(30).ToArray()));

            byte[] rest = new byte[70];
            await Net.ReceiveExactlyAsync(server, rest).Timeout();
            Assert.That(rest, Is.EqualTo(data.Skip(30).ToArray()), "bytes beyond the segments were lost or reordered");
        }
    }

    [Test]
    public async Task A_gather_send_on_a_connected_datagram_socket_is_one_datagram_of_exactly_its_bytes()
    {
        using ProactorSocket a = Udp();
        using ProactorSocket b = Udp();
        await a.ConnectAsync(b.LocalEndPoint!).Timeout();
        await b.ConnectAsync(a.LocalEndPoint!).Timeout();

        // Segments at offsets inside larger arrays, one empty: a wrong base, length or total shows.
        var segments = new List<ArraySegment<byte>>
        {
            new(new byte[] { 99, 1, 2, 99 }, 1, 2),
            new(new byte[] { 99 }, 0, 0),
            new(new byte[] { 99, 99, 3, 4, 5, 99 }, 2, 3),
        };

        Assert.That(await a.SendAsync(segments).Timeout(), Is.EqualTo(5));
        await a.SendAsync(new byte[] { 6 }).Timeout();

        byte[] buffer = new byte[64];
        Assert.That(await b.ReceiveAsync(buffer).Timeout(), Is.EqualTo(5), "the gather send was not one datagram of its 5 bytes");
        Assert.That(buffer.Take(5).ToArray(), Is.EqualTo(new byte[] { 1, 2, 3, 4, 5 }));
        Assert.That(await b.ReceiveAsync(buffer).Timeout(), Is.EqualTo(1));
        Assert.That(buffer[0], Is.EqualTo(6));
    }
}
