using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>
/// A server's zero-byte wait after receives into a buffer: where bytes are left it completes at
/// once (on Linux without a syscall, from the count the last receive brought back), where every
/// byte was taken, by whatever kind of receive, it waits.
/// </summary>
public abstract partial class ConformanceTests
{
    private const int WaitBuffer = 16 * 1024;

    [Test]
    public async Task Zero_byte_waits_between_full_receives_pass_a_stream_whole_and_in_order_then_its_end()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            byte[] sent = Net.Pattern((2 * WaitBuffer) + 5000, seed: 21);
            await client.SendAsync(sent).Timeout();
            client.Shutdown(SocketShutdown.Send);

            byte[] received = new byte[sent.Length];
            byte[] buffer = new byte[WaitBuffer];
            int total = 0;
            while (total < sent.Length)
            {
                Assert.That(await server.ReceiveAsync(Memory<byte>.Empty).Timeout(), Is.Zero);
                int n = await server.ReceiveAsync(buffer).Timeout();
                Assert.That(n, Is.GreaterThan(0), $"the end of the stream came after {total} of {sent.Length} bytes");
                Assert.That(total + n, Is.LessThanOrEqualTo(sent.Length), "more bytes than were sent");
                buffer.AsSpan(0, n).CopyTo(received.AsSpan(total));
                total += n;
            }

            Assert.That(received, Is.EqualTo(sent));
            Assert.That(await server.ReceiveAsync(Memory<byte>.Empty).Timeout(), Is.Zero, "the wait for the end");
            Assert.That(await server.ReceiveAsync(buffer).Timeout(), Is.Zero, "the end of the stream");
        }
    }

    [Test]
    public async Task A_zero_byte_wait_waits_when_full_receives_took_every_byte()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            // Exactly two buffers: the last receive is full, yet nothing is left.
            var (sent, received) = await SendThenReceiveTwoFullBuffersAsync(client, server, rest: 0, seed: 22);
            Assert.That(received, Is.EqualTo(sent));

            await ExpectWaitUntilOneMoreByteAsync(client, server);
        }
    }

    [Test]
    public async Task A_zero_byte_wait_waits_when_a_scatter_receive_took_what_full_receives_left()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            var (sent, received) = await SendThenReceiveTwoFullBuffersAsync(client, server, rest: 3000, seed: 23);

            // The rest through a receive of another kind (recvmsg with two buffers).
            byte[] first = new byte[1000];
            byte[] second = new byte[WaitBuffer];
            int n = await server.ReceiveAsync(new List<ArraySegment<byte>> { first, second }).Timeout();
            Assert.That(n, Is.EqualTo(3000), "the scatter receive took what was left");
            first.CopyTo(received, 2 * WaitBuffer);
            second.AsSpan(0, 2000).CopyTo(received.AsSpan((2 * WaitBuffer) + 1000));
            Assert.That(received, Is.EqualTo(sent));

            await ExpectWaitUntilOneMoreByteAsync(client, server);
        }
    }

    [Test]
    public async Task A_zero_byte_wait_waits_when_a_reactor_receive_took_what_full_receives_left()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            RequireReadiness(server);
            var (sent, received) = await SendThenReceiveTwoFullBuffersAsync(client, server, rest: 3000, seed: 24);

            Assert.That(server.TryReceive(received.AsSpan(2 * WaitBuffer), out int n, out SocketError error), Is.True, $"TryReceive: {error}");
            Assert.That(n, Is.EqualTo(3000), "the reactor's receive took what was left");
            Assert.That(received, Is.EqualTo(sent));

            await ExpectWaitUntilOneMoreByteAsync(client, server);
        }
    }

    /// <summary>Sends two wait buffers and <paramref name="rest"/> bytes more, then receives two
    /// full buffers of them; the rest stays in the kernel.</summary>
    private static async Task<(byte[] Sent, byte[] Received)> SendThenReceiveTwoFullBuffersAsync(ProactorSocket client, ProactorSocket server, int rest, int seed)
    {
        byte[] sent = Net.Pattern((2 * WaitBuffer) + rest, seed);
        await client.SendAsync(sent).Timeout();
        byte[] received = new byte[sent.Length];
        await Net.ReceiveExactlyAsync(server, received.AsMemory(0, WaitBuffer));
        await Net.ReceiveExactlyAsync(server, received.AsMemory(WaitBuffer, WaitBuffer));
        return (sent, received);
    }

    /// <summary>A zero-byte wait on <paramref name="server"/>, which holds nothing: still waiting after
    /// a while, then completed by one byte, which the receive after it gets.</summary>
    private static async Task ExpectWaitUntilOneMoreByteAsync(ProactorSocket client, ProactorSocket server)
    {
        ValueTask<int> wait = server.ReceiveAsync(Memory<byte>.Empty);
        await Task.Delay(100);
        Assert.That(wait.IsCompleted, Is.False, "nothing is left, yet the zero-byte wait completed");

        await client.SendAsync(new byte[] { 42 }).Timeout();
        Assert.That(await wait.Timeout(), Is.Zero);
        byte[] one = new byte[WaitBuffer];
        Assert.That(await server.ReceiveAsync(one).Timeout(), Is.EqualTo(1));
        Assert.That(one[0], Is.EqualTo(42));
    }
}
