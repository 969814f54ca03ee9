using System;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    [Test]
    public async Task A_stream_carries_text_lines_both_ways_through_readers_and_writers()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        await using var clientStream = new ProactorStream(client, ownsSocket: true);
        await using var serverStream = new ProactorStream(server, ownsSocket: true);

        Task echo = Task.Run(async () =>
        {
            using var reader = new StreamReader(serverStream, Encoding.UTF8, leaveOpen: true);
            await using var writer = new StreamWriter(serverStream, new UTF8Encoding(false), leaveOpen: true) { AutoFlush = true };
            while (await reader.ReadLineAsync() is { } line)
            {
                await writer.WriteLineAsync(line.ToUpperInvariant());
            }
        });

        using var clientReader = new StreamReader(clientStream, Encoding.UTF8, leaveOpen: true);
        await using var clientWriter = new StreamWriter(clientStream, new UTF8Encoding(false), leaveOpen: true) { AutoFlush = true };
        for (int i = 0; i < 100; i++)
        {
            await clientWriter.WriteLineAsync($"line {i} ünïcödé").Timeout();
            Assert.That(await clientReader.ReadLineAsync().Timeout(), Is.EqualTo($"LINE {i} ÜNÏCÖDÉ"));
        }

        client.Shutdown(SocketShutdown.Send);
        await echo.Timeout();
    }

    [Test]
    public async Task A_stream_copies_a_large_payload_to_the_end_with_synchronous_and_asynchronous_calls()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            byte[] payload = Net.Pattern(4 * 1024 * 1024, seed: 21);
            var received = new MemoryStream();
            var serverStream = new ProactorStream(server);
            Task copy = serverStream.CopyToAsync(received);

            // Blocking writes from a pool thread (never the engine's), then the end of the stream.
            await Task.Run(() =>
            {
                using var clientStream = new ProactorStream(client);
                for (int offset = 0; offset < payload.Length; offset += 256 * 1024)
                {
                    clientStream.Write(payload, offset, 256 * 1024);
                }
            }).Timeout();
            client.Shutdown(SocketShutdown.Send);
            await copy.Timeout();

            Assert.That(received.ToArray().AsSpan().SequenceEqual(payload), Is.True);

            // The streams did not own their sockets: both are still usable.
            Assert.That(await server.SendAsync(new byte[] { 7 }).Timeout(), Is.EqualTo(1));
            byte[] one = new byte[1];
            Assert.That(await Task.Run(() => new ProactorStream(client).Read(one, 0, 1)).Timeout(), Is.EqualTo(1));
            Assert.That(one[0], Is.EqualTo(7));
        }
    }

    [Test]
    public async Task A_stream_refuses_what_a_socket_stream_cannot_do_and_owns_its_socket_only_when_told()
    {
        using ProactorSocket listener = Net.Listen(Engine);
        var e = Assert.Throws<ArgumentException>(() => _ = new ProactorStream(listener))!;
        Assert.That(e.Message, Does.Contain("listening socket"));
        Assert.Throws<ArgumentNullException>(() => _ = new ProactorStream(null!));

        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (server)
        {
            var stream = new ProactorStream(client, ownsSocket: true);
            Assert.Multiple(() =>
            {
                Assert.That(stream.CanSeek, Is.False);
                Assert.Throws<NotSupportedException>(() => _ = stream.Length);
                Assert.Throws<NotSupportedException>(() => stream.Seek(0, SeekOrigin.Begin));
                Assert.Throws<ArgumentOutOfRangeException>(() => stream.Write(new byte[4], 2, 4));
            });

            await stream.DisposeAsync();
            Assert.That(client.IsDisposed, Is.True, "the stream owned its socket");
            Assert.That(stream.CanRead, Is.False);
            Assert.Throws<ObjectDisposedException>(() => stream.ReadAsync(new byte[1]));
            Assert.Throws<ObjectDisposedException>(() => _ = new ProactorStream(client));

            // The peer sees the end of the stream.
            Assert.That(await server.ReceiveAsync(new byte[1]).Timeout(), Is.Zero);
        }
    }

    [Test]
    public async Task A_blocking_stream_read_on_the_engine_thread_is_refused_instead_of_stopping_the_loop()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            server.Dispatch = CompletionDispatch.Inline;
            var stream = new ProactorStream(server);
            var (onEngine, refusal, taken) = await BlockingReadInAnInlineContinuationAsync(stream, client).Timeout();

            Assert.That(onEngine, Is.True, "the continuation must run on the engine thread for this test to mean anything");
            Assert.That(taken, Is.Null, "the blocking read must not run on the engine thread");
            Assert.That(refusal, Is.InstanceOf<InvalidOperationException>());
            Assert.That(refusal!.Message, Does.Contain("engine's own thread"));

            // Nothing was lost: the byte the refused read did not take is still there.
            byte[] rest = new byte[1];
            Assert.That(await Task.Run(() => stream.Read(rest, 0, 1)).Timeout(), Is.EqualTo(1));
            Assert.That(rest[0], Is.EqualTo(2));
        }
    }

    private async Task<(bool OnEngine, Exception? Refusal, int? Taken)> BlockingReadInAnInlineContinuationAsync(ProactorStream stream, ProactorSocket sender)
    {
        byte[] first = new byte[1];
        ValueTask<int> receive = stream.ReadAsync(first);
        Assert.That(receive.IsCompleted, Is.False, "the read must be pending for its continuation to run inline");
        _ = Task.Run(async () =>
        {
            await Task.Delay(20);
            await sender.SendAsync(new byte[] { 1 });
            await Task.Delay(20);
            await sender.SendAsync(new byte[] { 2 });
        });

        await receive; // a bare await: the continuation runs where the engine dispatches it (inline)
        bool onEngine = Engine.IsEngineThread;
        Exception? refusal = null;
        int? taken = null;
        try
        {
            taken = stream.Read(new byte[1], 0, 1);
        }
        catch (InvalidOperationException e)
        {
            refusal = e;
        }

        await Task.Yield(); // leave the loop thread
        return (onEngine, refusal, taken);
    }
}
