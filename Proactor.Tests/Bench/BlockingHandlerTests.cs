using System;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Bench.Servers;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Bench;

/// <summary>
/// <c>serve --block-every N --block-ms MS</c>: the echo servers' handler holds its thread after
/// every Nth message, and still echoes every byte. What a blocked handler does to the other
/// connections is the dispatch's business, proven in the conformance suite
/// (<c>Thread_pool_dispatch_a_blocking_continuation_does_not_hold_up_the_others_of_its_batch</c>);
/// here the option itself.
/// </summary>
[Platform("Linux")]
[Category("Linux")]
public sealed class BlockingHandlerTests
{
    private const int BlockMilliseconds = 300;

    private static IEchoServer Start(string kind, BlockingHandler blocking)
    {
        var endPoint = new IPEndPoint(IPAddress.Loopback, 0);
        return kind switch
        {
            "sockets" => new SocketsEchoServer(endPoint, blocking),
            "inline" => new ProactorEchoServer(new EngineOptions { Dispatch = CompletionDispatch.Inline }, endPoint, blocking: blocking),
            _ => new ProactorEchoServer(new EngineOptions(), endPoint, blocking: blocking),
        };
    }

    [TestCase("sockets")]
    [TestCase("threadpool")]
    [TestCase("inline")]
    public async Task Every_second_message_is_held_for_the_time_asked_and_every_byte_comes_back(string kind)
    {
        var blocking = new BlockingHandler(every: 2, milliseconds: BlockMilliseconds);
        using IEchoServer server = Start(kind, blocking);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(server.EndPoint).Timeout();

        var roundTrips = new TimeSpan[4];
        for (int i = 0; i < roundTrips.Length; i++)
        {
            byte[] message = [(byte)i, 1, 2, 3, 4, 5, 6, (byte)(100 + i)];
            var reply = new byte[message.Length];
            var clock = Stopwatch.StartNew();
            await client.SendAsync(message.AsMemory()).AsTask().Timeout();
            int got = 0;
            while (got < reply.Length)
            {
                int n = await client.ReceiveAsync(reply.AsMemory(got)).AsTask().Timeout();
                Assert.That(n, Is.Positive, "the server closed the connection");
                got += n;
            }

            roundTrips[i] = clock.Elapsed;
            Assert.That(reply, Is.EqualTo(message), $"message {i + 1}");
        }

        Assert.That(blocking.Blocks, Is.EqualTo(2), "messages 2 and 4 block, 1 and 3 do not");
        Assert.That(roundTrips[1].TotalMilliseconds, Is.GreaterThanOrEqualTo(BlockMilliseconds - 5), "the second message waits for its handler");
        Assert.That(roundTrips[3].TotalMilliseconds, Is.GreaterThanOrEqualTo(BlockMilliseconds - 5), "the fourth message waits for its handler");
        Assert.That(server.Name, Does.EndWith($"a handler blocks {BlockMilliseconds} ms every 2 messages"));
    }
}
