using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    [Test]
    public async Task A_receive_with_an_already_cancelled_token_is_cancelled_and_the_socket_stays_usable()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            using var cts = new CancellationTokenSource();
            await cts.CancelAsync();
            var e = await Expect.ThrowsAsync<OperationCanceledException>(async () => await server.ReceiveAsync(new byte[8], cts.Token));
            Assert.That(e!.CancellationToken, Is.EqualTo(cts.Token));

            await client.SendAsync(new byte[] { 7 }).Timeout();
            byte[] got = new byte[1];
            Assert.That(await server.ReceiveAsync(got).Timeout(), Is.EqualTo(1));
            Assert.That(got[0], Is.EqualTo(7));
        }
    }

    [Test]
    public async Task Cancelling_a_pending_receive_completes_it_cancelled_and_loses_no_data()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            using var cts = new CancellationTokenSource();
            ValueTask<int> receive = server.ReceiveAsync(new byte[8], cts.Token);
            await Task.Delay(50);
            Assert.That(receive.IsCompleted, Is.False);
            await cts.CancelAsync();

            var e = await Expect.ThrowsAsync<OperationCanceledException>(async () => await receive.Timeout());
            Assert.That(e!.CancellationToken, Is.EqualTo(cts.Token));

            // The next receive gets what is sent afterwards: the cancelled one took nothing.
            byte[] message = { 1, 2, 3, 4 };
            await client.SendAsync(message).Timeout();
            byte[] got = new byte[4];
            await Net.ReceiveExactlyAsync(server, got);
            Assert.That(got, Is.EqualTo(message));
        }
    }

    [Test]
    public async Task Cancelling_a_pending_accept_leaves_the_listener_usable()
    {
        using ProactorSocket listener = Net.Listen(Engine);
        using var cts = new CancellationTokenSource();
        ValueTask<ProactorSocket> accept = listener.AcceptAsync(cts.Token);
        await cts.CancelAsync();
        await Expect.ThrowsAsync<OperationCanceledException>(async () => await accept.Timeout());

        using var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        ValueTask<ProactorSocket> second = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!).Timeout();
        using ProactorSocket accepted = await second.Timeout();
        Assert.That(accepted.RemoteEndPoint, Is.EqualTo(client.LocalEndPoint));
    }

    [Test]
    public async Task Disposing_a_socket_aborts_its_pending_receive_and_send_exactly_once()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (server)
        {
            client.SendBufferSize = 4096;
            server.ReceiveBufferSize = 4096;
            ValueTask<int> receive = client.ReceiveAsync(new byte[16]);

            // Nobody reads at the server, so a large send cannot finish.
            ValueTask<int> send = client.SendAsync(new byte[64 * 1024 * 1024]);
            await Task.Delay(100);
            Assert.Multiple(() =>
            {
                Assert.That(receive.IsCompleted, Is.False, "receive should be pending");
                Assert.That(send.IsCompleted, Is.False, "send should be pending");
            });

            client.Dispose();
            var r = await Expect.ThrowsAsync<SocketException>(async () => await receive.Timeout());
            var s = await Expect.ThrowsAsync<SocketException>(async () => await send.Timeout());
            Assert.Multiple(() =>
            {
                Assert.That(r!.SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));
                Assert.That(s!.SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));
            });
        }

        await AssertEngineStillEchoesAsync();
    }

    [Test]
    public async Task Closing_with_many_queued_operations_posts_one_completion_each()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (server)
        {
            CompletionQueue queue = Engine.CreateCompletionQueue();
            const int Receives = 20;
            for (int i = 0; i < Receives; i++)
            {
                queue.SubmitReceive(client, new byte[8], userToken: i);
            }

            client.Dispose();
            var seen = new HashSet<int>();
            for (int i = 0; i < Receives; i++)
            {
                Completion c = await queue.Reader.ReadAsync().Timeout();
                Assert.That(c.Error, Is.EqualTo(SocketError.OperationAborted));
                Assert.That(c.IsCanceled, Is.False, "closing is an abort, not a cancellation");
                Assert.That(seen.Add((int)c.UserToken!), Is.True, $"operation {c.UserToken} completed twice");
            }

            await Task.Delay(100);
            Assert.That(queue.Reader.TryRead(out Completion extra), Is.False, $"an extra completion arrived: {extra}");
        }
    }

    [Test]
    public async Task Disposing_the_engine_aborts_pending_operations_and_closes_its_sockets()
    {
        ProactorEngine engine = CreateSecondEngine();
        var (client, server) = await Net.ConnectedPairAsync(engine);
        ValueTask<int> receive = client.ReceiveAsync(new byte[8]);
        ValueTask<ProactorSocket> accept;
        using (ProactorSocket listener = Net.Listen(engine))
        {
            accept = listener.AcceptAsync();
            engine.Dispose();
            var r = await Expect.ThrowsAsync<SocketException>(async () => await receive.Timeout());
            var a = await Expect.ThrowsAsync<SocketException>(async () => await accept.Timeout());
            Assert.Multiple(() =>
            {
                Assert.That(r!.SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));
                Assert.That(a!.SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));
            });
        }

        Assert.Throws<ObjectDisposedException>(() => _ = new ProactorSocket(engine, AddressFamily.InterNetwork));
        client.Dispose();
        server.Dispose();
    }
}
