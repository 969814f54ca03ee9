using System;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Bench.Servers;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Bench;

/// <summary>The comparison's Reactor echo server returns every byte in order, also when the client
/// sends far more than the socket buffers hold (the handler's backlog and Writable path).</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class ReactorEchoServerTests
{
    [TestCase(BackendKind.Epoll, false)]
    [TestCase(BackendKind.Epoll, true)]
    [TestCase(BackendKind.Poll, false)]
    [TestCase(BackendKind.IoUring, false)]
    public async Task Echoes_every_byte_in_order_also_past_the_socket_buffers(BackendKind backend, bool levelTriggered)
    {
        using var server = new ReactorEchoServer(
            new EngineOptions { Backend = backend, EpollLevelTriggered = levelTriggered },
            new IPEndPoint(IPAddress.Loopback, 0));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(server.EndPoint).Timeout();

        int seed = Environment.TickCount;
        TestContext.Out.WriteLine($"seed {seed}");
        byte[] sent = new byte[8 << 20];
        new Random(seed).NextBytes(sent);
        byte[] received = new byte[sent.Length];

        Task sending = Task.Run(async () =>
        {
            for (int offset = 0; offset < sent.Length; offset += 256 * 1024)
            {
                await client.SendAsync(sent.AsMemory(offset, Math.Min(256 * 1024, sent.Length - offset)));
            }
        });
        int total = 0;
        while (total < received.Length)
        {
            int n = await client.ReceiveAsync(received.AsMemory(total)).Timeout();
            Assert.That(n, Is.GreaterThan(0), $"the server ended the stream after {total} bytes");
            total += n;
        }

        await sending.Timeout();
        Assert.That(received.AsSpan().SequenceEqual(sent), Is.True, "echoed bytes differ from those sent");
    }
}
