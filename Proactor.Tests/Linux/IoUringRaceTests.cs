using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Linux;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Linux;

/// <summary>
/// The io_uring proactor where threads race its ring thread: completion order against direct
/// tries, cancels against completions, user code that throws on the ring thread, a close that
/// blocks, and a shutdown whose requests never come back. Randomized tests print their seed
/// (<c>PROACTOR_TEST_SEED</c> replays one) and run for <c>PROACTOR_STRESS_SECONDS</c> (default 4).
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[SupportedOSPlatform("linux")]
[NonParallelizable] // stress tests: they want the machine's cores to themselves
public sealed class IoUringRaceTests
{
    private const int EINTR = 4;
    private const int EAGAIN = 11;
    private const int ECANCELED = 125;
    private const int ECONNRESET = 104;

    private static IoUringEngine CreateIoUring(
        CompletionDispatch dispatch = CompletionDispatch.ThreadPool,
        bool tryBeforeSubmit = true,
        Action<string>? warning = null,
        TimeSpan? inlineHandlerWarningThreshold = null) =>
        (IoUringEngine)EngineFactory.Create(new EngineOptions
        {
            Backend = BackendKind.IoUring,
            Dispatch = dispatch,
            IoUringTryBeforeSubmit = tryBeforeSubmit,
            Warning = warning,
            InlineHandlerWarningThreshold = inlineHandlerWarningThreshold ?? TimeSpan.FromMilliseconds(50),
        });

    private static int Seed()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("PROACTOR_TEST_SEED"), out int s) ? s : Random.Shared.Next();
        TestContext.Out.WriteLine($"seed {seed} (PROACTOR_TEST_SEED={seed} replays it)");
        return seed;
    }

    private static TimeSpan StressTime =>
        TimeSpan.FromSeconds(double.TryParse(Environment.GetEnvironmentVariable("PROACTOR_STRESS_SECONDS"), out double s) && s > 0 ? s : 4);

    /// <summary>The byte at <paramref name="position"/> of the test stream: a chunk delivered out of
    /// order carries other values than its place expects.</summary>
    private static byte StreamByte(long position) => (byte)((ulong)position * 0x9E3779B97F4A7C15UL >> 56);

    [Test]
    public async Task A_lingering_close_does_not_stall_the_other_sockets_of_the_engine()
    {
        const int LingerSeconds = 30;

        // No direct tries: every operation of the echo needs the ring thread.
        using IoUringEngine engine = CreateIoUring(tryBeforeSubmit: false);
        using ProactorSocket listener = Net.Listen(engine);
        using var silentPeer = new ProactorSocket(engine, AddressFamily.InterNetwork);
        silentPeer.ReceiveBufferSize = 4096; // before the connect: the window it offers stays small
        ValueTask<ProactorSocket> accepting = listener.AcceptAsync();
        await silentPeer.ConnectAsync(listener.LocalEndPoint!).Timeout();
        ProactorSocket lingering = await accepting.Timeout();
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            lingering.SendBufferSize = 256 * 1024;
            lingering.LingerState = new LingerOption(true, LingerSeconds);

            // The send fits the send buffer, but the peer, which reads nothing, takes only a few
            // KiB of it: the rest stays unsent, and close(2) blocks until the peer reads it or the
            // linger time runs out.
            Assert.That(await lingering.SendAsync(new byte[64 * 1024]).Timeout(), Is.EqualTo(64 * 1024));
            lingering.Dispose();

            // The close is now pending. Another connection of the engine must go on meanwhile:
            // the bound is half the linger time, far above what 100 echoes take.
            byte[] message = Net.Pattern(100, seed: 7);
            byte[] back = new byte[message.Length];
            var clock = Stopwatch.StartNew();
            Task echoes = Task.Run(async () =>
            {
                for (int i = 0; i < 100; i++)
                {
                    Assert.That(await client.SendAsync(message), Is.EqualTo(message.Length));
                    await Net.ReceiveExactlyAsync(server, back);
                    Assert.That(await server.SendAsync(back), Is.EqualTo(back.Length));
                    await Net.ReceiveExactlyAsync(client, back);
                    Assert.That(back, Is.EqualTo(message));
                }
            });
            try
            {
                await echoes.WaitAsync(TimeSpan.FromSeconds(LingerSeconds / 2));
            }
            catch (TimeoutException)
            {
                Assert.Fail($"100 echoes on another socket did not finish within {LingerSeconds / 2} s while a close lingered for up to {LingerSeconds} s: the close blocks the ring thread");
            }

            TestContext.Out.WriteLine($"100 echoes took {clock.ElapsedMilliseconds} ms during the lingering close");

            // Reading lets the lingering close finish gracefully: every byte, then the end of the stream.
            byte[] rest = await Net.ReceiveToEndAsync(silentPeer).Timeout();
            Assert.That(rest, Has.Length.EqualTo(64 * 1024), "what was written before the close is delivered");
        }
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task A_buffer_whose_Pin_throws_fails_that_start_and_the_engine_keeps_serving(bool tryBeforeSubmit)
    {
        using IoUringEngine engine = CreateIoUring(tryBeforeSubmit: tryBeforeSubmit);
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            using var refusing = new TestMemory(64) { ThrowOnPin = true };
            CompletionQueue queue = engine.CreateCompletionQueue();

            // Nothing to read: the receive needs the kernel, so its buffer must be pinned.
            var thrown = Assert.Throws<InvalidOperationException>(() => _ = server.ReceiveAsync(refusing.Memory));
            Assert.That(thrown!.Message, Is.EqualTo(TestMemory.PinRefused));
            thrown = Assert.Throws<InvalidOperationException>(() => queue.SubmitReceive(server, refusing.Memory));
            Assert.That(thrown!.Message, Is.EqualTo(TestMemory.PinRefused));

            // The ring thread is alive, and the socket's direction is not stuck.
            byte[] message = Net.Pattern(64, seed: 11);
            byte[] received = new byte[64];
            ValueTask<int> receive = server.ReceiveAsync(received);
            Assert.That(await client.SendAsync(message), Is.EqualTo(64));
            Assert.That(await receive.Timeout(), Is.EqualTo(64));
            Assert.That(received, Is.EqualTo(message));
            queue.SubmitReceive(server, received, userToken: "after");
            Assert.That(await client.SendAsync(message), Is.EqualTo(64));
            Completion c = await queue.Reader.ReadAsync().AsTask().Timeout();
            Assert.That((c.UserToken, c.Error, c.BytesTransferred), Is.EqualTo(("after", SocketError.Success, 64)));
        }
    }

    [TestCase(CompletionDispatch.ThreadPool)]
    [TestCase(CompletionDispatch.Inline)]
    public async Task Cancels_and_timeouts_racing_completions_end_each_receive_exactly_once_and_lose_no_byte(CompletionDispatch dispatch)
    {
        // One pooled operation object serves every receive of the socket, so a cancel that lands
        // as one use completes is still queued for the ring when the next use is started and
        // cancelled: that second cancel must not be lost (its receive would never end).
        int seed = Seed();
        var rng = new Random(seed);
        using IoUringEngine engine = CreateIoUring(dispatch);
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            byte[] buffer = new byte[16];
            byte[] one = [42];
            long sent = 0, received = 0;
            int withData = 0, cancelled = 0, timedOut = 0, iterations = 0;
            TimeSpan duration = StressTime;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < duration)
            {
                iterations++;
                bool send = rng.Next(2) == 0;
                bool cancel = rng.Next(4) != 0;
                bool timeout = !cancel || rng.Next(4) == 0;
                int sendSpin = rng.Next(0, 3000);
                int cancelSpin = rng.Next(0, 3000);
                using var cts = new CancellationTokenSource();
                ValueTask<int> receive = timeout
                    ? server.ReceiveAsync(buffer, TimeSpan.FromMilliseconds(rng.Next(1, 3)), cts.Token)
                    : server.ReceiveAsync(buffer, cts.Token);
                Task racers = Task.WhenAll(
                    send ? Task.Run(async () =>
                    {
                        Thread.SpinWait(sendSpin);
                        Assert.That(await client.SendAsync(one), Is.EqualTo(1));
                    }) : Task.CompletedTask,
                    cancel ? Task.Run(() =>
                    {
                        Thread.SpinWait(cancelSpin);
                        cts.Cancel();
                    }) : Task.CompletedTask);
                try
                {
                    int n = await receive.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                    Assert.That(n, Is.GreaterThan(0), "the peer did not close");
                    received += n;
                    withData++;
                }
                catch (OperationCanceledException)
                {
                    cancelled++;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
                {
                    timedOut++;
                }
                catch (TimeoutException)
                {
                    Assert.Fail($"iteration {iterations}: a receive (send {send}, cancel {cancel}, timeout {timeout}) never ended: a cancel or timeout was lost (seed {seed})");
                }

                await racers.Timeout();
                if (send)
                {
                    sent++;
                }
            }

            // Whatever no receive took is still there, once: no byte lost or delivered twice.
            client.Shutdown(SocketShutdown.Send);
            byte[] rest = await Net.ReceiveToEndAsync(server).Timeout();
            TestContext.Out.WriteLine($"{iterations} receives: {withData} with data, {cancelled} cancelled, {timedOut} timed out; {sent} bytes sent");
            Assert.That(received + rest.Length, Is.EqualTo(sent), $"bytes (seed {seed})");
            Assert.That(withData + cancelled + timedOut, Is.EqualTo(iterations));
            Assert.That(timedOut, Is.GreaterThan(0), "timeouts fired");
            Assert.That(cancelled, Is.GreaterThan(0), "cancels took effect");
        }
    }

    [Test]
    public async Task Cancelling_a_queued_send_completes_it_at_once_and_the_send_in_flight_ahead_arrives_whole()
    {
        using IoUringEngine engine = CreateIoUring();
        using ProactorSocket listener = Net.Listen(engine);
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            // Bounded buffers hold A in flight; none below a loopback segment (64 KiB), where the
            // transfer would crawl on zero-window probes once the reader starts.
            client.SendBufferSize = 128 * 1024;
            server.ReceiveBufferSize = 128 * 1024;
            CompletionQueue queue = engine.CreateCompletionQueue();
            byte[] a = Net.Pattern(8 * 1024 * 1024, seed: 5);
            using var cts = new CancellationTokenSource();
            queue.SubmitSend(client, a, userToken: "A");
            queue.SubmitSend(client, Net.Pattern(1000, seed: 6), userToken: "B", cancellationToken: cts.Token);
            await cts.CancelAsync();

            // B completes as cancelled while A is still held in flight by the full buffers (as
            // with System.Net.Sockets: a queued operation's cancel or deadline never waits for
            // the one ahead of it, which may wait for ever).
            Completion first = await queue.Reader.ReadAsync().AsTask().Timeout();
            Assert.That((first.UserToken, first.Error, first.IsCanceled), Is.EqualTo(("B", SocketError.OperationAborted, true)));

            byte[] received = new byte[a.Length];
            Task reading = Net.ReceiveExactlyAsync(server, received);
            Completion second = await queue.Reader.ReadAsync().AsTask().Timeout();
            await reading.Timeout();
            Assert.That((second.UserToken, second.Error, second.BytesTransferred), Is.EqualTo(("A", SocketError.Success, a.Length)));
            Assert.That(received.AsSpan().SequenceEqual(a), Is.True);

            // B never reached the socket.
            client.Shutdown(SocketShutdown.Send);
            Assert.That(await Net.ReceiveToEndAsync(server).Timeout(), Is.Empty);
        }
    }

    /// <summary>
    /// A queued receive's cancel ends it at once, not behind the receive ahead of it, which waits
    /// for data that never comes; that receive later gets the data. With
    /// <paramref name="cancelTakenBeforeStart"/> the ring thread takes the cancel before the start:
    /// the start is posted just after the ring took the posted starts, the cancel just before it
    /// takes the cancels (a window CI hit under load).
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public async Task Cancelling_a_queued_receive_completes_it_at_once_and_the_receive_ahead_gets_the_data(bool cancelTakenBeforeStart)
    {
        using IoUringEngine engine = CreateIoUring();
        using ProactorSocket listener = Net.Listen(engine);
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            CompletionQueue queue = engine.CreateCompletionQueue();
            using var cts = new CancellationTokenSource();
            queue.SubmitReceive(server, new byte[100], userToken: "A");
            if (cancelTakenBeforeStart)
            {
                await RingRoundTripAsync(engine, listener); // A's start is taken: A waits for data
                int fired = 0;
                engine.AfterStartsDrained = () =>
                {
                    if (Interlocked.Exchange(ref fired, 1) == 0)
                    {
                        // On the ring thread, between the two drains: B's start stays posted for
                        // the next drain, its cancel is taken in this one.
                        queue.SubmitReceive(server, new byte[100], userToken: "B", cancellationToken: cts.Token);
                        cts.Cancel();
                    }
                };
                await RingRoundTripAsync(engine, listener); // any command makes the ring drain
                Assert.That(Volatile.Read(ref fired), Is.EqualTo(1), "the ring drained commands without calling the hook");
            }
            else
            {
                queue.SubmitReceive(server, new byte[100], userToken: "B", cancellationToken: cts.Token);
                await cts.CancelAsync();
            }

            Completion first = await queue.Reader.ReadAsync().AsTask().Timeout();
            Assert.That((first.UserToken, first.Error, first.IsCanceled), Is.EqualTo(("B", SocketError.OperationAborted, true)));
            await RingRoundTripAsync(engine, listener);
            Assert.That(queue.Reader.TryRead(out Completion early), Is.False, $"{early} completed before any data arrived");

            Assert.That(await client.SendAsync(Net.Pattern(10, seed: 8)).Timeout(), Is.EqualTo(10));
            Completion second = await queue.Reader.ReadAsync().AsTask().Timeout();
            Assert.That((second.UserToken, second.Error, second.BytesTransferred), Is.EqualTo(("A", SocketError.Success, 10)));
        }
    }

    /// <summary>Completes only after the ring thread drained every command posted before it.</summary>
    private static async Task RingRoundTripAsync(ProactorEngine engine, ProactorSocket listener)
    {
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        using var probe = new ProactorSocket(engine, AddressFamily.InterNetwork);
        await probe.ConnectAsync(listener.LocalEndPoint!).Timeout();
        using ProactorSocket accepted = await accept.Timeout();
    }

    [TestCase(EINTR, true, SocketError.OperationAborted)]
    [TestCase(EAGAIN, true, SocketError.OperationAborted)]
    [TestCase(ECANCELED, true, SocketError.OperationAborted)]
    [TestCase(ECANCELED, false, SocketError.OperationAborted)]
    [TestCase(ECONNRESET, true, SocketError.ConnectionReset)]
    [TestCase(EINTR, false, SocketError.Interrupted)]
    public void A_request_that_ends_because_it_was_cancelled_reports_an_abort(int errno, bool cancelSubmitted, SocketError expected)
    {
        Assert.That(IoUringEngine.ErrorOfFailedRequest(errno, cancelSubmitted), Is.EqualTo(expected));
    }

    [Test]
    public async Task A_shutdown_whose_request_never_returns_aborts_what_waited_behind_it_and_never_unpins_its_buffer()
    {
        var warnings = new List<string>();
        IoUringEngine engine = CreateIoUring(warning: m =>
        {
            lock (warnings)
            {
                warnings.Add(m);
            }
        });
        engine.ShutdownGrace = TimeSpan.FromMilliseconds(300);
        engine.WithholdOperationCancels = true; // the receive in flight now ignores its cancel
        engine.MultishotReceive = false; // a receive of its own in the kernel, not one waiting on the socket's multishot receive

        // The peer is not the engine's: the shutdown closes every socket of the engine, and
        // closing the peer would end the receive with the end of the stream.
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        ProactorSocket server;
        using (ProactorSocket listener = Net.Listen(engine))
        {
            ValueTask<ProactorSocket> accept = listener.AcceptAsync();
            await peer.ConnectAsync(listener.LocalEndPoint!).WaitAsync(Net.StepTimeout);
            server = await accept.Timeout();
        }

        using var inFlight = new TestMemory(64);
        using var waiting1 = new TestMemory(64);
        using var waiting2 = new TestMemory(64);
        CompletionQueue queue = engine.CreateCompletionQueue();
        queue.SubmitReceive(server, inFlight.Memory, userToken: 0);
        queue.SubmitReceive(server, waiting1.Memory, userToken: 1);
        queue.SubmitReceive(server, waiting2.Memory, userToken: 2);
        for (int i = 0; i < 200 && engine.InFlightRequests != 1; i++) // the listener's cancelled accept may still be out
        {
            await Task.Delay(10);
        }

        Assert.That(engine.InFlightRequests, Is.EqualTo(1), "one receive is with the kernel, two wait behind it");
        await Task.Run(engine.Dispose).Timeout();
        for (int i = 0; i < 3; i++)
        {
            Completion c = await queue.Reader.ReadAsync().AsTask().Timeout();
            Assert.That((c.UserToken, c.Error), Is.EqualTo((i, SocketError.OperationAborted)), "each completes once, aborted, in submission order");
        }

        Assert.That(inFlight.Pins, Is.EqualTo(1));
        Assert.That(inFlight.Unpins, Is.Zero, "the kernel may still write the buffer of a request that never returned");
        Assert.That((waiting1.Unpins, waiting2.Unpins), Is.EqualTo((waiting1.Pins, waiting2.Pins)), "buffers the kernel never saw are released");
        lock (warnings)
        {
            Assert.That(warnings, Has.Some.Contains("did not return"));
        }

        server.Dispose();
    }

    [Test]
    public async Task An_exception_inside_a_direct_try_does_not_leave_the_socket_without_direct_tries()
    {
        using IoUringEngine engine = CreateIoUring();
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            using var refusing = new TestMemory(64) { ThrowOnGetSpan = true };
            Assert.That(await client.SendAsync(new byte[10]), Is.EqualTo(10));
            var thrown = Assert.Throws<InvalidOperationException>(() => _ = server.ReceiveAsync(refusing.Memory));
            Assert.That(thrown!.Message, Is.EqualTo(TestMemory.SpanRefused));

            // The data is there: the next receive is tried at once and finishes on this thread.
            long tries = engine.DirectTries;
            ValueTask<int> receive = server.ReceiveAsync(new byte[64]);
            Assert.That(engine.DirectTries, Is.EqualTo(tries + 1), "the receive was tried at once");
            Assert.That(await receive.Timeout(), Is.EqualTo(10));
        }
    }

    [Test]
    public async Task A_listener_whose_multishot_accept_is_refused_does_not_turn_multishot_off_for_the_others()
    {
        using IoUringEngine engine = CreateIoUring();
        Assume.That(engine.MultishotAccept, Is.True, "the kernel has no multishot accept (Linux 5.19)");
        using (ProactorSocket broken = Net.Listen(engine))
        {
            // A listener shut down fails its accepts with EINVAL, as a kernel without multishot does.
            ValueTask<ProactorSocket> accept = broken.AcceptAsync();
            await Task.Delay(20);
            broken.Shutdown(SocketShutdown.Both);
            SocketException e = await Expect.ThrowsAsync<SocketException>(async () => await accept.Timeout());
            Assert.That(e.SocketErrorCode, Is.EqualTo(SocketError.InvalidArgument));
        }

        Assert.That(engine.MultishotAccept, Is.True);
        using ProactorSocket listener = Net.Listen(engine);
        var clients = new List<ProactorSocket>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                ValueTask<ProactorSocket> accept = listener.AcceptAsync();
                var client = new ProactorSocket(engine, AddressFamily.InterNetwork);
                clients.Add(client);
                await client.ConnectAsync(listener.LocalEndPoint!).Timeout();
                clients.Add(await accept.Timeout());
            }

            // Between accepts the kernel still holds the listener's multishot accept.
            for (int i = 0; i < 100 && engine.InFlightRequests != 1; i++)
            {
                await Task.Delay(10);
            }

            Assert.That(engine.InFlightRequests, Is.EqualTo(1), "the other listener's multishot accept stays armed between accepts");
        }
        finally
        {
            foreach (ProactorSocket s in clients)
            {
                s.Dispose();
            }
        }
    }

    /// <summary>A buffer whose owner counts pins and unpins, and can refuse either or its span.</summary>
    private sealed unsafe class TestMemory : MemoryManager<byte>
    {
        public const string PinRefused = "this buffer refuses to be pinned";
        public const string SpanRefused = "this buffer refuses its span";
        private readonly byte[] _array;
        private int _pins;
        private int _unpins;

        public TestMemory(int length) => _array = GC.AllocateArray<byte>(length, pinned: true);

        public bool ThrowOnPin { get; init; }

        public bool ThrowOnGetSpan { get; init; }

        public int Pins => Volatile.Read(ref _pins);

        public int Unpins => Volatile.Read(ref _unpins);

        // Not through GetSpan, which may be told to throw.
        public override Memory<byte> Memory => CreateMemory(_array.Length);

        public override Span<byte> GetSpan() => ThrowOnGetSpan ? throw new InvalidOperationException(SpanRefused) : _array;

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            if (ThrowOnPin)
            {
                throw new InvalidOperationException(PinRefused);
            }

            Interlocked.Increment(ref _pins);
            byte* p = (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(_array, elementIndex);
            return new MemoryHandle(p, default, this);
        }

        public override void Unpin() => Interlocked.Increment(ref _unpins);

        protected override void Dispose(bool disposing)
        {
        }
    }
}
