using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;
using Proactor.Windows;

namespace Proactor.Tests.Windows;

/// <summary>
/// What only the IOCP backend can get wrong: its completion packets, its two completion modes
/// (with and without FILE_SKIP_COMPLETION_PORT_ON_SUCCESS), its re-issues (the rest of a send, the
/// next accept) and what happens when an operation cannot be handed to the OS.
/// </summary>
[TestFixture]
[Platform("Win")]
[Category("Windows")]
[NonParallelizable] // counts the engine's pending operations and reads warnings
[SupportedOSPlatform("windows")]
public sealed class IocpEngineTests
{
    private readonly ConcurrentQueue<string> _warnings = new();

    [SetUp]
    public void ForgetWarnings() => _warnings.Clear();

    /// <summary>
    /// Awaits <paramref name="pending"/> (which must be pending) in a method of its own, so with
    /// inline dispatch the code after the await runs on the completion thread; there it signals
    /// <paramref name="held"/> and waits for <paramref name="gate"/>, holding the thread.
    /// </summary>
    private static async Task HoldCompletionThreadAsync(ProactorEngine engine, ValueTask<int> pending, ManualResetEventSlim held, ManualResetEventSlim gate)
    {
        Assert.That(pending.IsCompleted, Is.False, "the holding receive must be pending");
        await pending;
        Assert.That(engine.IsEngineThread, Is.True, "the holder must run on the completion thread");
        held.Set();
        gate.Wait(Net.StepTimeout);
    }

    private IocpEngine CreateEngine(bool noSkip, CompletionDispatch dispatch = CompletionDispatch.Inline, int maxBytesPerSend = int.MaxValue, TimeSpan? joinTimeout = null) =>
        new(new EngineOptions { Backend = BackendKind.Iocp, Dispatch = dispatch, Warning = _warnings.Enqueue },
            new IocpTestHooks
            {
                ForceNoSkipCompletionPortOnSuccess = noSkip,
                MaxBytesPerSend = maxBytesPerSend,
                JoinTimeout = joinTimeout ?? TimeSpan.FromSeconds(30),
            });

    private static int PendingAfterSettling(IocpEngine engine)
    {
        // The completion thread may still be processing the last packet when the awaiter resumes.
        for (int i = 0; i < 100 && engine.PendingOperations != 0; i++)
        {
            Thread.Sleep(10);
        }

        return engine.PendingOperations;
    }

    // ---- accept -------------------------------------------------------------------------------

    [TestCase(false)]
    [TestCase(true)]
    public async Task An_accept_skips_a_connection_reset_in_the_backlog_and_returns_the_next_one(bool noSkip)
    {
        using IocpEngine engine = CreateEngine(noSkip);
        using ProactorSocket listener = Net.Listen(engine);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;

        // Connected (the handshake completes in the backlog), then reset before anyone accepts it.
        IPEndPoint resetEndPoint;
        using (var reset = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            reset.Connect(endPoint);
            resetEndPoint = (IPEndPoint)reset.LocalEndPoint!;
            reset.LingerState = new LingerOption(true, 0);
            reset.Close();
        }

        await Task.Delay(100); // the reset reaches the listener's backlog

        using var good = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        good.Connect(endPoint);
        good.Send(new byte[] { 42 });

        ProactorSocket accepted = await listener.AcceptAsync().Timeout();
        if (accepted.RemoteEndPoint is IPEndPoint peer && peer.Equals(resetEndPoint))
        {
            // A stack may hand over the reset connection (as Linux does); its first receive says so.
            using (accepted)
            {
                await Expect.ThrowsAsync<SocketException>(async () => await accepted.ReceiveAsync(new byte[1]).Timeout());
            }

            accepted = await listener.AcceptAsync().Timeout();
        }

        using (accepted)
        {
            Assert.That(accepted.RemoteEndPoint, Is.EqualTo(good.LocalEndPoint));
            byte[] got = new byte[1];
            Assert.That(await accepted.ReceiveAsync(got).Timeout(), Is.EqualTo(1));
            Assert.That(got[0], Is.EqualTo(42));
        }
    }

    // ---- an operation that cannot be started ---------------------------------------------------

    /// <summary>Memory whose Pin throws, as a MemoryManager over memory that cannot be pinned may.</summary>
    private sealed class UnpinnableMemory(int length) : MemoryManager<byte>
    {
        private readonly byte[] _array = new byte[length];

        public override Span<byte> GetSpan() => _array;

        public override MemoryHandle Pin(int elementIndex = 0) => throw new InvalidOperationException("this memory cannot be pinned");

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }

    /// <summary>Starts an operation and returns what it failed with at once (thrown, or a faulted
    /// ValueTask), or null when it did not fail at once.</summary>
    private static Exception? StartAndCatch(Func<ValueTask<int>> start)
    {
        try
        {
            ValueTask<int> started = start();
            return started.IsFaulted ? started.AsTask().Exception!.InnerException : null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_receive_or_send_whose_buffer_cannot_be_pinned_throws_and_leaves_nothing_pending(bool noSkip)
    {
        using IocpEngine engine = CreateEngine(noSkip);
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            using var unpinnable = new UnpinnableMemory(16);
            Assert.That(StartAndCatch(() => server.ReceiveAsync(unpinnable.Memory)), Is.InstanceOf<InvalidOperationException>());
            Assert.That(StartAndCatch(() => client.SendAsync(unpinnable.Memory)), Is.InstanceOf<InvalidOperationException>());
            Assert.That(PendingAfterSettling(engine), Is.Zero, "an operation that never reached the OS is not pending");

            // Both directions still work.
            await client.SendAsync(new byte[] { 1, 2, 3 }).Timeout();
            byte[] got = new byte[3];
            await Net.ReceiveExactlyAsync(server, got);
            Assert.That(got, Is.EqualTo(new byte[] { 1, 2, 3 }));
        }

        Assert.That(PendingAfterSettling(engine), Is.Zero);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_queued_receive_whose_buffer_cannot_be_pinned_fails_on_the_completion_thread_and_the_engine_carries_on(bool noSkip)
    {
        using IocpEngine engine = CreateEngine(noSkip);
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            using var unpinnable = new UnpinnableMemory(16);
            byte[] first = new byte[1];
            ValueTask<int> head = server.ReceiveAsync(first);
            ValueTask<int> queued = server.ReceiveAsync(unpinnable.Memory); // pinned only when its turn comes
            Assert.That(queued.IsCompleted, Is.False);

            await client.SendAsync(new byte[] { 7 }).Timeout();
            Assert.That(await head.Timeout(), Is.EqualTo(1));
            var e = await Expect.ThrowsAsync<SocketException>(async () => await queued.Timeout());
            Assert.That(e!.SocketErrorCode, Is.EqualTo(SocketError.Fault));
            Assert.That(_warnings, Has.Some.Contains("this memory cannot be pinned"), "the engine says why the operation failed");
            Assert.That(PendingAfterSettling(engine), Is.Zero);

            await client.SendAsync(new byte[] { 8 }).Timeout();
            Assert.That(await server.ReceiveAsync(first).Timeout(), Is.EqualTo(1));
            Assert.That(first[0], Is.EqualTo(8));
        }
    }

    // ---- close wins over a result that raced with it -------------------------------------------

    /// <summary>
    /// The completion thread is held (an inline continuation waits on a gate) while the receive's
    /// result arrives and the socket is closed; when the thread goes on, the packet it finds says
    /// "data" (or "end of stream"), yet the socket was closed first from the caller's view.
    /// </summary>
    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    [TestCase(true, true)]
    public async Task A_receive_whose_socket_was_closed_before_its_result_was_delivered_is_aborted(bool noSkip, bool endOfStream)
    {
        using IocpEngine engine = CreateEngine(noSkip);
        var (gateClient, gateServer) = await Net.ConnectedPairAsync(engine);
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (gateClient)
        using (gateServer)
        using (client)
        using (server)
        {
            ValueTask<int> receive = server.ReceiveAsync(new byte[8]);
            using var gate = new ManualResetEventSlim();
            using var held = new ManualResetEventSlim();
            Task holder = HoldCompletionThreadAsync(engine, gateServer.ReceiveAsync(new byte[1]), held, gate);

            // Without skip-on-success a send's own completion needs the held thread too: start
            // the sends (the bytes leave at once), await them only once the thread is free.
            ValueTask<int> gateSend = gateClient.SendAsync(new byte[1]);
            ValueTask<int> sending = default;
            try
            {
                Assert.That(await WaitOffThisThreadAsync(held), Is.True, $"the completion thread was not held ({holder.Status}, {holder.Exception})");
                if (endOfStream)
                {
                    client.Shutdown(SocketShutdown.Send);
                }
                else
                {
                    sending = client.SendAsync(new byte[] { 1, 2, 3 });
                }

                await Task.Delay(200); // the receive's result reaches the port
                server.Dispose();
            }
            finally
            {
                gate.Set();
            }

            await gateSend.Timeout();
            await sending.Timeout();
            await holder.Timeout();
            var e = await Expect.ThrowsAsync<SocketException>(async () => await receive.Timeout());
            Assert.That(e!.SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));
        }
    }

    // ---- sends in pieces -----------------------------------------------------------------------

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_send_the_stack_completes_without_progress_fails_instead_of_reporting_fewer_bytes(bool noSkip)
    {
        using IocpEngine engine = CreateEngine(noSkip, maxBytesPerSend: 0);
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            int sent = -1;
            var e = await Expect.ThrowsAsync<SocketException>(async () => sent = await client.SendAsync(new byte[100]).Timeout());
            Assert.That(sent, Is.EqualTo(-1), "a send completes only with every byte written");
            Assert.That(e!.SocketErrorCode, Is.EqualTo(SocketError.NoBufferSpaceAvailable));
            Assert.That(await client.SendAsync(ReadOnlyMemory<byte>.Empty).Timeout(), Is.Zero, "an empty send still succeeds");
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_send_taken_in_small_pieces_arrives_whole_and_in_order(bool noSkip)
    {
        using IocpEngine engine = CreateEngine(noSkip, dispatch: CompletionDispatch.ThreadPool, maxBytesPerSend: 1000);
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            byte[][] messages = [Net.Pattern(300_000, 1), Net.Pattern(123_457, 2), Net.Pattern(999, 3)];
            byte[] received = new byte[300_000 + 123_457 + 999];
            Task receiving = Net.ReceiveExactlyAsync(server, received);
            ValueTask<int>[] sends = [client.SendAsync(messages[0]), client.SendAsync(messages[1]), client.SendAsync(messages[2])];
            for (int i = 0; i < sends.Length; i++)
            {
                Assert.That(await sends[i].Timeout(), Is.EqualTo(messages[i].Length));
            }

            await receiving.Timeout();
            Assert.That(received, Is.EqualTo(Concat(messages)));
        }
    }

    /// <summary>
    /// Each piece of the send is one byte and, without skip-on-success, comes back through the port
    /// before the next is issued: a cancel or close lands between pieces, where CancelIoEx finds no
    /// call in flight. The send must end there (cancelled / aborted) and the peer get a prefix.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public async Task A_send_in_pieces_ends_between_pieces_when_cancelled_or_closed_and_the_peer_gets_a_prefix(bool close)
    {
        using IocpEngine engine = CreateEngine(noSkip: true, dispatch: CompletionDispatch.ThreadPool, maxBytesPerSend: 1);
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            byte[] message = Net.Pattern(1 << 20, 4);
            using var cts = new CancellationTokenSource();
            ValueTask<int> send = client.SendAsync(message, cts.Token);
            byte[] firstBytes = new byte[16];
            await Net.ReceiveExactlyAsync(server, firstBytes); // the send is under way, piece by piece
            if (close)
            {
                client.Dispose();
            }
            else
            {
                await cts.CancelAsync();
            }

            Exception? error = await Expect.ThrowsAsync<Exception>(async () => await send.Timeout());
            if (close)
            {
                Assert.That(error, Is.InstanceOf<SocketException>().With.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.OperationAborted));
            }
            else
            {
                Assert.That(error, Is.InstanceOf<OperationCanceledException>());
                client.Shutdown(SocketShutdown.Send);
            }

            byte[] rest = await ReceiveUntilEndOrResetAsync(server);
            byte[] got = [.. firstBytes, .. rest];
            Assert.That(got.Length, Is.LessThan(message.Length), "the send ended early");
            Assert.That(got, Is.EqualTo(message.AsSpan(0, got.Length).ToArray()), "the peer got a prefix, in order");
        }
    }

    // ---- cancel racing the completion ----------------------------------------------------------

    /// <summary>
    /// A receive, a small send from the peer and a cancel from a third thread, each after a random
    /// spin: often the data wins and CancelIoEx finds nothing to cancel. Every receive must complete
    /// exactly once (a second completion fails the process), either with data or cancelled, and no
    /// byte may be lost or delivered twice.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public async Task A_cancel_racing_the_completion_of_a_receive_ends_it_once_and_loses_no_byte(bool noSkip)
    {
        int seed = Environment.TickCount;
        TestContext.Out.WriteLine($"seed {seed}");
        var random = new Random(seed);
        using IocpEngine engine = CreateEngine(noSkip);
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            const int Rounds = 300;
            byte[] stream = Net.Pattern(Rounds * 4, seed);
            var received = new MemoryStream();
            byte[] buffer = new byte[64];
            int cancelled = 0, withData = 0;
            for (int round = 0; round < Rounds; round++)
            {
                int sendSpin = random.Next(0, 20_000), cancelSpin = random.Next(0, 2_000);
                using var cts = new CancellationTokenSource();
                ValueTask<int> receive = server.ReceiveAsync(buffer, cts.Token);
                Task sending = Task.Run(async () =>
                {
                    Thread.SpinWait(sendSpin);
                    await client.SendAsync(stream.AsMemory(round * 4, 4));
                });
                Task cancelling = Task.Run(() =>
                {
                    Thread.SpinWait(cancelSpin);
                    cts.Cancel();
                });

                try
                {
                    int n = await receive.Timeout();
                    Assert.That(n, Is.GreaterThan(0), $"round {round}: end of stream from a live peer");
                    received.Write(buffer, 0, n);
                    withData++;
                }
                catch (OperationCanceledException)
                {
                    cancelled++;
                }

                await sending.Timeout();
                await cancelling.Timeout();
            }

            client.Shutdown(SocketShutdown.Send);
            received.Write(await Net.ReceiveToEndAsync(server));
            TestContext.Out.WriteLine($"{engine.Name}: {withData} receives got data, {cancelled} were cancelled");
            Assert.That(withData + cancelled, Is.EqualTo(Rounds));
            Assert.That(received.ToArray(), Is.EqualTo(stream), $"bytes lost, duplicated or reordered (seed {seed})");
        }

        Assert.That(PendingAfterSettling(engine), Is.Zero);
    }

    /// <summary>
    /// Found by a race run under Wine (the completion thread stopped for good, then every thread
    /// that closed one of its sockets): the completion thread delivers a completion-queue
    /// operation under its direction's lock, and when the submitter had already dropped its
    /// reference, releasing the operation there disposed its token registration, which waits for
    /// a cancel callback running on another thread; that callback was waiting for the same lock.
    /// The hook holds the lock while a third thread cancels the receive whose data is being
    /// delivered: the cancel must return, the data (which won) must arrive once, and the engine
    /// must go on serving.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public async Task A_cancel_waiting_for_the_lock_under_which_its_queued_receive_is_delivered_returns(bool noSkip)
    {
        int armed = 0;
        using var holding = new ManualResetEventSlim();
        using var cancelling = new ManualResetEventSlim();
        var engine = new IocpEngine(
            new EngineOptions { Backend = BackendKind.Iocp, Warning = _warnings.Enqueue },
            new IocpTestHooks
            {
                ForceNoSkipCompletionPortOnSuccess = noSkip,
                JoinTimeout = TimeSpan.FromSeconds(1),
                WhileDeliveringUnderLock = kind =>
                {
                    if (kind == OperationKind.Receive && Interlocked.Exchange(ref armed, 0) == 1)
                    {
                        holding.Set();
                        cancelling.Wait(Net.StepTimeout);
                        Thread.Sleep(200); // the canceller reaches the lock meanwhile
                    }
                },
            });
        var (client, server) = await Net.ConnectedPairAsync(engine);
        CompletionQueue queue = engine.CreateCompletionQueue();
        using var cts = new CancellationTokenSource();
        byte[] buffer = new byte[16];
        queue.SubmitReceive(server, buffer, "held", cts.Token);
        Volatile.Write(ref armed, 1);

        // Not awaited yet: without skip-on-success the send's own packet may queue behind the
        // receive's, which the hook holds until the canceller runs.
        Task<int> sending = client.SendAsync(new byte[] { 7 }).AsTask();
        Assert.That(await WaitOffThisThreadAsync(holding), Is.True, "the receive's packet was not delivered");

        var canceller = new Thread(() =>
        {
            cancelling.Set();
            cts.Cancel();
        })
        { IsBackground = true, Name = "canceller" };
        canceller.Start();

        // On failure the engine and both sockets are left as they are: closing a socket would
        // wait for the lock the stuck completion thread holds.
        Assert.That(await Task.Run(() => canceller.Join(TimeSpan.FromSeconds(10))), Is.True,
            "the cancel never returned: the completion thread, holding the direction's lock, waited for the cancel callback");

        Assert.That(await sending.Timeout(), Is.EqualTo(1));
        Completion completion = await queue.Reader.ReadAsync().AsTask().Timeout();
        Assert.That((completion.UserToken, completion.Error, completion.BytesTransferred, buffer[0]), Is.EqualTo(("held", SocketError.Success, 1, (byte)7)),
            "the data was being delivered when the cancel came: it wins");

        await Net.SendAllAsync(client, new byte[] { 1, 2, 3 });
        byte[] echo = new byte[3];
        await Net.ReceiveExactlyAsync(server, echo);
        Assert.That(echo, Is.EqualTo(new byte[] { 1, 2, 3 }), "the engine serves on after the race");
        Assert.That(queue.Reader.TryRead(out Completion extra), Is.False, $"a second completion: {extra}");

        client.Dispose();
        server.Dispose();
        engine.Dispose();
        Assert.That(_warnings, Has.None.Contains("did not stop"));
    }

    // ---- dispose -------------------------------------------------------------------------------

    [Test]
    public async Task Dispose_returns_and_reports_when_the_completion_thread_does_not_stop()
    {
        IocpEngine engine = CreateEngine(noSkip: false, joinTimeout: TimeSpan.FromSeconds(1));
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using var gate = new ManualResetEventSlim();
        using var held = new ManualResetEventSlim();
        Task holder = HoldCompletionThreadAsync(engine, server.ReceiveAsync(new byte[1]), held, gate);

        try
        {
            await client.SendAsync(new byte[1]).Timeout();
            Assert.That(await WaitOffThisThreadAsync(held), Is.True, "the completion thread was not held");
            Task disposing = Task.Run(engine.Dispose);
            Assert.That(disposing.Wait(TimeSpan.FromSeconds(20)), Is.True, "Dispose hung on a completion thread that does not stop");
            Assert.That(_warnings, Has.Some.Contains("did not stop"), "Dispose says why it returned without the thread");
        }
        finally
        {
            gate.Set();
        }

        await holder.Timeout();
        for (int i = 0; i < 200 && engine.RegisteredSocketCount != 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.That(engine.RegisteredSocketCount, Is.Zero, "once free, the completion thread still closed the sockets");
        client.Dispose();
        server.Dispose();
    }

    /// <summary>Memory that counts its pins and unpins (over a pinned array, so its pointer is stable).</summary>
    private sealed unsafe class PinCountingMemory(int length) : MemoryManager<byte>
    {
        private readonly byte[] _array = GC.AllocateArray<byte>(length, pinned: true);
        private int _pins;
        private int _unpins;

        public int Pins => Volatile.Read(ref _pins);

        public int Unpins => Volatile.Read(ref _unpins);

        public override Span<byte> GetSpan() => _array;

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            Interlocked.Increment(ref _pins);
            return new MemoryHandle(Unsafe.AsPointer(ref _array[elementIndex]), default, this);
        }

        public override void Unpin() => Interlocked.Increment(ref _unpins);

        protected override void Dispose(bool disposing)
        {
        }
    }

    private static async Task RecordEndAsync(ValueTask<int> receive, int id, ConcurrentQueue<(int Id, SocketError Error)> ends)
    {
        try
        {
            await receive;
            ends.Enqueue((id, SocketError.Success));
        }
        catch (SocketException e)
        {
            ends.Enqueue((id, e.SocketErrorCode));
        }
    }

    /// <summary>
    /// Seen under Wine: a receive pending when its socket is closed may never return from the OS
    /// (its issuing thread had exited), and the drain at Dispose gave up on it, leaving it and the
    /// receive queued behind it uncompleted for good. Every operation must complete exactly once,
    /// so both end aborted, in order; but the OS could still write to the abandoned call's buffer,
    /// so that buffer must stay pinned. The hook drops the packets of calls of closed sockets.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public async Task Dispose_completes_calls_the_OS_never_returns_as_aborted_and_keeps_their_buffers_pinned(bool noSkip)
    {
        var engine = new IocpEngine(
            new EngineOptions { Backend = BackendKind.Iocp, Dispatch = CompletionDispatch.Inline, Warning = _warnings.Enqueue },
            new IocpTestHooks
            {
                ForceNoSkipCompletionPortOnSuccess = noSkip,
                DrainTimeout = TimeSpan.FromSeconds(1),
                LosePacketsOfClosedSockets = true,
            });
        var (client, server) = await Net.ConnectedPairAsync(engine).Timeout();
        using (client)
        using (server)
        {
            var memory = new PinCountingMemory(64);
            var ends = new ConcurrentQueue<(int Id, SocketError Error)>();
            Task inFlight = RecordEndAsync(server.ReceiveAsync(memory.Memory), 1, ends);
            Task queued = RecordEndAsync(server.ReceiveAsync(new byte[64]), 2, ends);
            Assert.That(inFlight.IsCompleted || queued.IsCompleted, Is.False, "both receives must be pending");

            Task disposing = Task.Run(engine.Dispose);
            Assert.That(await Task.WhenAny(disposing, Task.Delay(TimeSpan.FromSeconds(20))), Is.SameAs(disposing), "Dispose did not return");
            await inFlight.Timeout();
            await queued.Timeout();

            Assert.That(ends.ToArray(), Is.EqualTo(new[] { (1, SocketError.OperationAborted), (2, SocketError.OperationAborted) }),
                "each receive ends once, aborted, in submission order");
            Assert.That(memory.Pins, Is.EqualTo(1), "the receive in flight was handed to the OS");
            Assert.That(memory.Unpins, Is.Zero, "the OS may still write to an abandoned call's buffer: it stays pinned");
            Assert.That(_warnings, Has.Some.Contains("not returned by the OS"), "the engine says it abandoned a call");
        }
    }

    /// <summary>
    /// The same stack, but only the socket is closed: a server that closes a connection with a
    /// receive pending must see that receive end (the engine gives the OS a bounded time), not
    /// wait for the engine's Dispose; the engine keeps serving the other sockets.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public async Task Close_completes_calls_the_OS_never_returns_as_aborted_and_keeps_their_buffers_pinned(bool noSkip)
    {
        using var engine = new IocpEngine(
            new EngineOptions { Backend = BackendKind.Iocp, Dispatch = CompletionDispatch.Inline, Warning = _warnings.Enqueue },
            new IocpTestHooks
            {
                ForceNoSkipCompletionPortOnSuccess = noSkip,
                DrainTimeout = TimeSpan.FromSeconds(1),
                LosePacketsOfClosedSockets = true,
            });
        var (client, server) = await Net.ConnectedPairAsync(engine).Timeout();
        using (client)
        {
            var memory = new PinCountingMemory(64);
            var ends = new ConcurrentQueue<(int Id, SocketError Error)>();
            Task inFlight = RecordEndAsync(server.ReceiveAsync(memory.Memory), 1, ends);
            Task queued = RecordEndAsync(server.ReceiveAsync(new byte[64]), 2, ends);
            Assert.That(inFlight.IsCompleted || queued.IsCompleted, Is.False, "both receives must be pending");

            server.Dispose();
            await inFlight.Timeout();
            await queued.Timeout();

            Assert.That(ends.ToArray(), Is.EqualTo(new[] { (1, SocketError.OperationAborted), (2, SocketError.OperationAborted) }),
                "each receive ends once, aborted, in submission order");
            Assert.That(memory.Unpins, Is.Zero, "the OS may still write to an abandoned call's buffer: it stays pinned");
            Assert.That(_warnings, Has.Some.Contains("not returned by the OS"), "the engine says it abandoned a call");
            Assert.That(PendingAfterSettling(engine), Is.Zero, "nothing is left pending");

            var (a, b) = await Net.ConnectedPairAsync(engine).Timeout();
            using (a)
            using (b)
            {
                await Net.SendAllAsync(a, new byte[] { 7 }).Timeout();
                byte[] got = new byte[1];
                await Net.ReceiveExactlyAsync(b, got).Timeout();
                Assert.That(got[0], Is.EqualTo(7), "the engine still serves other sockets");
            }
        }
    }

    /// <summary>
    /// Waits for <paramref name="signal"/> without blocking the calling thread. Seen under Wine: a
    /// receive issued by a test thread that then blocked in ManualResetEventSlim.Wait did not
    /// complete while that thread waited (Wine finishes overlapped socket calls in the issuing
    /// process's threads), so the test would wait for itself.
    /// </summary>
    private static Task<bool> WaitOffThisThreadAsync(ManualResetEventSlim signal) =>
        Task.Run(() => signal.Wait(Net.StepTimeout));

    private static async Task<byte[]> ReceiveUntilEndOrResetAsync(ProactorSocket socket)
    {
        var output = new MemoryStream();
        byte[] chunk = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(chunk).Timeout();
                if (n == 0)
                {
                    break;
                }

                output.Write(chunk, 0, n);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            // A close with unsent data may reset the connection; what arrived before it counts.
        }

        return output.ToArray();
    }

    private static byte[] Concat(byte[][] parts)
    {
        var all = new MemoryStream();
        foreach (byte[] part in parts)
        {
            all.Write(part);
        }

        return all.ToArray();
    }
}
