using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Linux;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Linux;

/// <summary>
/// io_uring's multishot receive over the engine's buffer ring: what it saves (SQEs), and what it
/// must keep: data taken ahead is held for the next receive, in order, bounded, never lost to a
/// cancel, and an emptied buffer ring only pauses a socket. The one-SQE-per-receive path runs the
/// whole conformance suite in <c>IoUringOneShotReceiveConformanceTests</c>.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[SupportedOSPlatform("linux")]
public sealed class IoUringMultishotTests
{
    private static IoUringEngine CreateEngine(CompletionDispatch dispatch, bool multishot = true)
    {
        var engine = (IoUringEngine)EngineFactory.Create(new EngineOptions { Backend = BackendKind.IoUring, Dispatch = dispatch });
        if (multishot && !engine.MultishotReceive)
        {
            string reason = engine.MultishotReceiveUnavailableReason ?? "unknown";
            engine.Dispose();
            Assert.Ignore($"multishot receive is unavailable here: {reason}");
        }

        engine.MultishotReceive = multishot;
        return engine;
    }

    /// <summary>A System.Net.Sockets client (so the engine's counters count the server only) and
    /// the accepted Proactor socket.</summary>
    private static async Task<(Socket Client, ProactorSocket Server)> PairAsync(ProactorEngine engine)
    {
        using ProactorSocket listener = Net.Listen(engine);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!).WaitAsync(Net.StepTimeout);
        return (client, await accept.Timeout());
    }

    private static IoUringSocket Ring(ProactorSocket socket) => (IoUringSocket)socket.EngineSocket;

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds.</summary>
    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Net.StepTimeout)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>Enters multishot mode (a first plain receive) and waits until the socket is in it.</summary>
    private static async Task EnterMultishotAsync(Socket client, ProactorSocket server)
    {
        byte[] one = new byte[1];
        ValueTask<int> first = server.ReceiveAsync(one);
        client.Send(new byte[] { 42 });
        Assert.That(await first.Timeout(), Is.EqualTo(1));
        Assert.That(Ring(server).ReceiveMultishot, Is.True, "a plain stream receive puts the socket in multishot mode");
    }

    [TestCase(true, 64)]
    [TestCase(false, 64)]
    [TestCase(true, 16384)] // a bulk stream: it leaves multishot mode
    public async Task An_echo_round_trip_submits_no_SQE_with_multishot_and_two_without(bool multishot, int size)
    {
        using IoUringEngine engine = CreateEngine(CompletionDispatch.Inline, multishot);
        (Socket client, ProactorSocket server) = await PairAsync(engine);
        using (client)
        using (server)
        {
            // The bench's echo: an idle wait (zero-byte receive), then receive and send.
            Task echo = Task.Run(async () =>
            {
                byte[] buffer = new byte[65536];
                while (true)
                {
                    await server.ReceiveAsync(Memory<byte>.Empty);
                    int n = await server.ReceiveAsync(buffer);
                    if (n == 0)
                    {
                        return;
                    }

                    await server.SendAsync(buffer.AsMemory(0, n));
                }
            });

            byte[] message = Net.Pattern(size);
            byte[] reply = new byte[size];
            void RoundTrip()
            {
                client.Send(message);
                int got = 0;
                while (got < reply.Length)
                {
                    got += client.Receive(reply, got, reply.Length - got, SocketFlags.None);
                }
            }

            await Task.Run(() => { for (int i = 0; i < 50; i++) { RoundTrip(); } }).Timeout(); // warm-up: modes entered
            const int RoundTrips = 400;
            long sqes = engine.SqesSubmitted;
            long cqes = engine.CqesReaped;
            await Task.Run(() => { for (int i = 0; i < RoundTrips; i++) { RoundTrip(); } }).Timeout();
            double sqesPerRoundTrip = (double)(engine.SqesSubmitted - sqes) / RoundTrips;
            double cqesPerRoundTrip = (double)(engine.CqesReaped - cqes) / RoundTrips;
            TestContext.Out.WriteLine($"multishot {multishot}, {size} B: {sqesPerRoundTrip:0.00} SQEs, {cqesPerRoundTrip:0.00} CQEs per round trip");
            Assert.That(reply, Is.EqualTo(message));
            // The send, started by an inline continuation, is one send(2), no SQE.
            if (multishot && size < 16384)
            {
                // The receives wait on the armed multishot receive.
                Assert.That(sqesPerRoundTrip, Is.LessThan(0.2));
            }
            else
            {
                // POLL_ADD for the idle wait, RECV; a bulk stream that went back into multishot
                // mode would add an arm and a cancel per message.
                Assert.That(sqesPerRoundTrip, Is.GreaterThan(1.5).And.LessThan(2.5));
            }

            client.Shutdown(SocketShutdown.Send);
            await echo.Timeout();
        }
    }

    [TestCase(CompletionDispatch.ThreadPool)]
    [TestCase(CompletionDispatch.Inline)]
    public async Task Data_that_arrives_with_no_receive_waiting_is_held_and_served_in_order_without_an_SQE(CompletionDispatch dispatch)
    {
        using IoUringEngine engine = CreateEngine(dispatch);
        (Socket client, ProactorSocket server) = await PairAsync(engine);
        using (client)
        using (server)
        {
            await EnterMultishotAsync(client, server);
            byte[] data = Net.Pattern(3000, seed: 7);
            client.Send(data);
            await EventuallyAsync(() => Ring(server).HeldBytes == data.Length, "the multishot receive holds every byte sent");

            long sqes = engine.SqesSubmitted;
            byte[] got = new byte[data.Length];
            for (int offset = 0; offset < got.Length; offset += 100)
            {
                int n = await server.ReceiveAsync(got.AsMemory(offset, 100)).Timeout();
                Assert.That(n, Is.EqualTo(100), $"at offset {offset}");
            }

            Assert.Multiple(() =>
            {
                Assert.That(got, Is.EqualTo(data), "held bytes come out once each, in order");
                Assert.That(engine.SqesSubmitted - sqes, Is.Zero, "receives served from held data need no SQE");
                Assert.That(Ring(server).HeldBytes, Is.Zero);
            });
        }
    }

    [Test]
    public async Task A_zero_byte_receive_completes_on_held_data_without_consuming_it()
    {
        using IoUringEngine engine = CreateEngine(CompletionDispatch.ThreadPool);
        (Socket client, ProactorSocket server) = await PairAsync(engine);
        using (client)
        using (server)
        {
            await EnterMultishotAsync(client, server);
            client.Send(Net.Pattern(10, seed: 3));
            byte[] first = new byte[4];
            Assert.That(await server.ReceiveAsync(first).Timeout(), Is.EqualTo(4));
            await EventuallyAsync(() => Ring(server).HeldBytes == 6, "the rest is held");

            Assert.That(await server.ReceiveAsync(Memory<byte>.Empty).Timeout(), Is.Zero);
            byte[] rest = new byte[10];
            int n = await server.ReceiveAsync(rest).Timeout();
            Assert.That(first.Concat(rest.Take(n)).ToArray(), Is.EqualTo(Net.Pattern(10, seed: 3)));
        }
    }

    [Test]
    public async Task A_receive_started_by_an_inline_continuation_takes_held_data_synchronously()
    {
        using IoUringEngine engine = CreateEngine(CompletionDispatch.Inline);
        (Socket client, ProactorSocket server) = await PairAsync(engine);
        using (client)
        using (server)
        {
            await EnterMultishotAsync(client, server);
            var done = new TaskCompletionSource<(bool Synchronous, int Bytes)>(TaskCreationOptions.RunContinuationsAsynchronously);
            byte[] buffer = new byte[16];
            ValueTask<int> wait = server.ReceiveAsync(Memory<byte>.Empty);
            wait.GetAwaiter().OnCompleted(() =>
            {
                // On the ring thread, inside the zero-byte receive's completion: the echo's next step.
                wait.GetAwaiter().GetResult();
                ValueTask<int> receive = server.ReceiveAsync(buffer);
                if (receive.IsCompleted)
                {
                    done.SetResult((true, receive.Result));
                }
                else
                {
                    receive.AsTask().ContinueWith(t => done.SetResult((false, t.Result)), TaskScheduler.Default);
                }
            });

            client.Send(new byte[] { 5, 6, 7 });
            (bool synchronous, int bytes) = await done.Task.Timeout();
            Assert.Multiple(() =>
            {
                Assert.That(synchronous, Is.True, "the data the zero-byte receive saw is held: no trip through the ring");
                Assert.That(buffer.Take(bytes).ToArray(), Is.EqualTo(new byte[] { 5, 6, 7 }));
            });
        }
    }

    [Test]
    public async Task A_cancelled_receive_loses_no_data_the_next_receive_gets_it()
    {
        using IoUringEngine engine = CreateEngine(CompletionDispatch.ThreadPool);
        (Socket client, ProactorSocket server) = await PairAsync(engine);
        using (client)
        using (server)
        {
            await EnterMultishotAsync(client, server);
            using var cts = new CancellationTokenSource();
            ValueTask<int> pending = server.ReceiveAsync(new byte[16], cts.Token);
            await Task.Delay(20); // let the ring make it the receive that waits on the multishot
            cts.Cancel();
            Assert.ThrowsAsync<OperationCanceledException>(async () => await pending.Timeout());

            client.Send(new byte[] { 1, 2, 3 });
            byte[] got = new byte[16];
            int n = await server.ReceiveAsync(got).Timeout();
            Assert.That(got.Take(n).ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        }
    }

    [Test]
    public async Task What_the_kernel_takes_ahead_is_bounded_and_nothing_is_lost()
    {
        using IoUringEngine engine = CreateEngine(CompletionDispatch.ThreadPool);
        (Socket client, ProactorSocket server) = await PairAsync(engine);
        using (client)
        using (server)
        {
            await EnterMultishotAsync(client, server);
            byte[] data = Net.Pattern(8 * 1024 * 1024, seed: 11);
            Task send = Task.Run(() => client.Send(data)); // blocks once TCP's window is full

            // Let the socket take what it will, until it stops growing.
            int held = -1;
            for (int stable = 0; stable < 10;)
            {
                await Task.Delay(50);
                int now = Ring(server).HeldBytes;
                stable = now == held ? stable + 1 : 0;
                held = now;
            }

            TestContext.Out.WriteLine($"held {held} bytes while nobody received (bound {IoUringSocket.MaxHeldBytes})");
            // The cancel goes out with the next enter: what the kernel filled meanwhile (at most the
            // buffer ring) comes on top of the bound. Without a bound all 8 MiB would be held.
            Assert.That(held, Is.LessThanOrEqualTo(IoUringSocket.MaxHeldBytes + IoUringEngine.BufferRingBytes), "the multishot receive must stop taking ahead");

            byte[] got = new byte[data.Length];
            await Net.ReceiveExactlyAsync(server, got);
            await send.Timeout();
            Assert.That(got.AsSpan().SequenceEqual(data), Is.True, "every byte, once, in order");
        }
    }

    [TestCase(CompletionDispatch.ThreadPool)]
    [TestCase(CompletionDispatch.Inline)]
    public async Task A_bulk_stream_leaves_multishot_mode_without_losing_or_reordering_a_byte(CompletionDispatch dispatch)
    {
        using IoUringEngine engine = CreateEngine(dispatch);
        (Socket client, ProactorSocket server) = await PairAsync(engine);
        using (client)
        using (server)
        {
            await EnterMultishotAsync(client, server);
            byte[] data = Net.Pattern(1024 * 1024, seed: 5);
            Task send = Task.Run(() => client.Send(data));
            byte[] got = new byte[data.Length];
            for (int offset = 0; offset < got.Length;)
            {
                int n = await server.ReceiveAsync(got.AsMemory(offset, Math.Min(40_000, got.Length - offset))).Timeout();
                Assert.That(n, Is.GreaterThan(0));
                offset += n;
            }

            await send.Timeout();
            Assert.That(got.AsSpan().SequenceEqual(data), Is.True, "every byte, once, in order across the change of mode");

            // And it goes on working (the change happens at the first receive that finds the
            // cancelled multishot ended and nothing held), zero-byte waits included.
            for (int i = 0; i < 5; i++)
            {
                client.Send(new byte[] { 9, 8, (byte)i });
                Assert.That(await server.ReceiveAsync(Memory<byte>.Empty).Timeout(), Is.Zero);
                byte[] small = new byte[8];
                int m = await server.ReceiveAsync(small).Timeout();
                Assert.That(small.Take(m).ToArray(), Is.EqualTo(new byte[] { 9, 8, (byte)i }));
            }

            Assert.That(Ring(server).ReceiveMultishot, Is.False, "arrivals that fill whole ring buffers send the socket back to one SQE per receive");
        }
    }

    [Test]
    public async Task An_emptied_buffer_ring_pauses_sockets_and_every_byte_still_arrives()
    {
        using IoUringEngine engine = CreateEngine(CompletionDispatch.Inline);
        Assume.That(engine.SetupFlags & (1u << 13), Is.Not.Zero, "needs DEFER_TASKRUN: arrivals then wait for the ring thread's next enter");
        // The kernel runs a batch of arrivals per enter, each taking buffers until its socket is
        // drained (16 here): a batch needs more than the ring's 256 before the ring thread reaps.
        const int Connections = 64;
        const int Size = 64 * 1024;
        var pairs = new (Socket Client, ProactorSocket Server)[Connections];
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                pairs[i] = await PairAsync(engine);
            }

            var firsts = new Task<int>[Connections];
            var buffers = new byte[Connections][];
            for (int i = 0; i < Connections; i++)
            {
                buffers[i] = new byte[Size];
                firsts[i] = pairs[i].Server.ReceiveAsync(buffers[i]).AsTask();
            }

            // Block the ring thread (an inline continuation), send on every connection meanwhile:
            // its next enter finds every arrival at once, more than the ring has buffers.
            (Socket blockerClient, ProactorSocket blockerServer) = await PairAsync(engine);
            using (blockerClient)
            using (blockerServer)
            {
                using var blocking = new ManualResetEventSlim();
                ValueTask<int> blocker = blockerServer.ReceiveAsync(new byte[1]);
                blocker.GetAwaiter().OnCompleted(() =>
                {
                    blocking.Set();
                    Thread.Sleep(300);
                });
                await Task.Delay(50); // the multishot receives are armed
                blockerClient.Send(new byte[1]);
                Assert.That(blocking.Wait(Net.StepTimeout), Is.True);
                for (int i = 0; i < Connections; i++)
                {
                    pairs[i].Client.Send(Net.Pattern(Size, seed: i));
                }

                for (int i = 0; i < Connections; i++)
                {
                    int n = await firsts[i].Timeout();
                    await Net.ReceiveExactlyAsync(pairs[i].Server, buffers[i].AsMemory(n));
                    Assert.That(buffers[i], Is.EqualTo(Net.Pattern(Size, seed: i)), $"connection {i}");
                }
            }

            TestContext.Out.WriteLine($"buffer ring exhausted {engine.BufferRingExhaustions} times");
            Assert.That(engine.BufferRingExhaustions, Is.GreaterThan(0), "the test meant to empty the buffer ring");
        }
        finally
        {
            foreach ((Socket client, ProactorSocket server) in pairs)
            {
                client?.Dispose();
                server?.Dispose();
            }
        }
    }
}
