using System;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    [Test]
    public async Task Bad_arguments_throw_at_once_and_the_engine_keeps_serving()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            Assert.Multiple(() =>
            {
                Assert.Throws<ArgumentNullException>(() => client.ReceiveAsync(null!, 0, 1));
                Assert.Throws<ArgumentNullException>(() => client.SendAsync(null!, 0, 1));
                Assert.Throws<ArgumentOutOfRangeException>(() => client.ReceiveAsync(new byte[10], 5, 6));
                Assert.Throws<ArgumentOutOfRangeException>(() => client.ReceiveAsync(new byte[10], 11, 0));
                Assert.Throws<ArgumentOutOfRangeException>(() => client.SendAsync(new byte[10], -1, 2));
                Assert.Throws<ArgumentOutOfRangeException>(() => client.SendAsync(new byte[10], 0, int.MaxValue));
                Assert.Throws<ArgumentNullException>(() => client.ConnectAsync(null!));
                Assert.Throws<ArgumentException>(() => client.ConnectAsync(new UnsupportedEndPoint())); // names, Unix: ConformanceTests.Names/.UnixSockets
                Assert.Throws<ArgumentException>(() => client.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, 1)));
                Assert.Throws<InvalidOperationException>(() => client.AcceptAsync());
                Assert.Throws<ArgumentNullException>(() => _ = new ProactorSocket(null!, AddressFamily.InterNetwork));
                Assert.Throws<ArgumentException>(() => _ = new ProactorSocket(Engine, AddressFamily.AppleTalk)); // Unix: ConformanceTests.UnixSockets
            });
        }

        await AssertEngineStillEchoesAsync();
    }

    [Test]
    public void Operations_on_a_listener_other_than_accept_throw()
    {
        using ProactorSocket listener = Net.Listen(Engine);
        var e = Assert.Throws<InvalidOperationException>(() => listener.ReceiveAsync(new byte[1]));
        Assert.That(e!.Message, Does.Contain("listening"));
        Assert.Throws<InvalidOperationException>(() => listener.SendAsync(new byte[1]));
        Assert.Throws<InvalidOperationException>(() => listener.ConnectAsync(new IPEndPoint(IPAddress.Loopback, 1)));
    }

    [Test]
    public async Task Operations_on_a_disposed_socket_throw_ObjectDisposedException()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        server.Dispose();
        client.Dispose();
        client.Dispose(); // idempotent
        Assert.Multiple(() =>
        {
            Assert.Throws<ObjectDisposedException>(() => client.ReceiveAsync(new byte[1]));
            Assert.Throws<ObjectDisposedException>(() => client.SendAsync(new byte[1]));
            Assert.Throws<ObjectDisposedException>(() => client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, 1)));
            Assert.Throws<ObjectDisposedException>(() => client.Shutdown(SocketShutdown.Both));
            Assert.Throws<ObjectDisposedException>(() => _ = client.LocalEndPoint);
        });
    }

    [Test]
    public void The_completion_queue_rejects_bad_arguments()
    {
        CompletionQueue queue = Engine.CreateCompletionQueue();
        using ProactorEngine other = CreateSecondEngine();
        using var foreign = new ProactorSocket(other, AddressFamily.InterNetwork);
        using var mine = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentNullException>(() => queue.SubmitReceive(null!, new byte[1]));
            Assert.Throws<ArgumentException>(() => queue.SubmitReceive(foreign, new byte[1]));
            Assert.Throws<InvalidOperationException>(() => queue.SubmitAccept(mine));
            Assert.Throws<ArgumentNullException>(() => queue.SubmitConnect(mine, null!));
        });
        Assert.That(queue.Reader.TryRead(out _), Is.False, "a rejected submission must post nothing");
    }

    /// <summary>An end point of no kind ProactorSocket knows. (UnixDomainSocketEndPoint cannot stand in:
    /// its constructor throws PlatformNotSupportedException where the OS has no AF_UNIX, as under Wine.)</summary>
    private sealed class UnsupportedEndPoint : EndPoint
    {
    }
}
