using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Tests.Infrastructure;

/// <summary>
/// A randomized race on one engine: several threads submit receives, sends, accepts and connects
/// (awaited and through a completion queue), cancel tokens, use timeouts, half-close, dispose and
/// reset sockets, close listeners with a pending accept and finally dispose the engine while all of that goes on.
/// Where the backend offers readiness they also register Reactor handlers, change and dispose
/// the registrations and await <see cref="ProactorSocket.WaitAsync"/> (ChaosRun.Reactor.cs).
/// Each thread draws its actions from its own <see cref="Random"/> seeded from the run's seed.
/// Threads interleave as the scheduler pleases, so a seed replays the same action sequences, not
/// the same interleaving; the invariants hold for every interleaving.
/// </summary>
/// <remarks>
/// Invariants collected as violations (a run passes only when there are none):
/// <list type="bullet">
/// <item>every submitted operation completes exactly once, and none that was refused at submission completes;</item>
/// <item>with Inline dispatch, the continuation of an operation that was pending runs on an engine thread;</item>
/// <item>a send completes with its full length; a receive never reports more than its buffer;</item>
/// <item>per direction, the bytes received are the counter stream in order, up to the first send
///   that did not complete successfully (after that an unknown prefix of it was sent); no more bytes
///   arrive than were ever submitted; nothing arrives after the end of the stream;</item>
/// <item>only documented outcomes: success, <see cref="SocketException"/>, <see cref="OperationCanceledException"/>,
///   <see cref="ObjectDisposedException"/> (at submission);</item>
/// <item>after the chaos the engine still echoes on a fresh connection; its Dispose returns;</item>
/// <item>the Reactor's handler calls keep the promises of <see cref="ReactorRegistration"/> (listed in ChaosRun.Reactor.cs).</item>
/// </list>
/// The hang bound is generous; operations still pending then are listed with the seed.
/// </remarks>
internal sealed partial class ChaosRun
{
    private const int Workers = 4;
    private const int MaxInFlight = 256;
    private const int MaxConnections = 12;
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);

    private readonly ProactorEngine _engine;
    private readonly int _seed;
    private readonly bool _inline;
    private readonly CompletionQueue _queue;
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentDictionary<long, Op> _pending = new();
    private readonly ConcurrentBag<Task> _observers = new();
    private readonly ConcurrentBag<CancellationTokenSource> _sources = new();
    private readonly List<CancellationTokenSource> _liveTokens = new();
    private readonly List<Connection> _connections = new();
    private readonly List<ProactorSocket> _listeners = new();
    private readonly ConcurrentBag<ProactorSocket> _everyClientSocket = new();
    private readonly Lock _lock = new();
    private long _nextId;
    private long _submitted;
    private long _refused;
    private long _completed;
    private long _offEngineThread;
    private volatile bool _stop;
    private volatile string _phase = "setup";

    public ChaosRun(ProactorEngine engine, int seed)
    {
        _engine = engine;
        _seed = seed;
        _inline = engine.Dispatch == CompletionDispatch.Inline;
        _queue = engine.CreateCompletionQueue();
    }

    public long Submitted => Interlocked.Read(ref _submitted) - Interlocked.Read(ref _refused);

    public IReadOnlyCollection<string> Violations => _violations;

    /// <summary>Runs the chaos for <paramref name="duration"/>, checks the loop, then disposes the
    /// engine in a last burst and waits for every operation. Returns a one-line summary.</summary>
    public async Task<string> RunAsync(TimeSpan duration)
    {
        for (int i = 0; i < 4; i++)
        {
            var (client, server) = await Net.ConnectedPairAsync(_engine).Timeout();
            _everyClientSocket.Add(client);
            _everyClientSocket.Add(server);
            lock (_lock)
            {
                _connections.Add(new Connection(client, server));
            }
        }

        ProbeReadiness();

        Task reader = Task.Run(DrainQueueAsync);
        var clock = Stopwatch.StartNew();

        EnterPhase("chaos");
        await RunWorkersAsync(duration, burst: 0);

        // The loop must have survived everything above: a fresh connection still echoes.
        EnterPhase("echo after the chaos");
        try
        {
            var (a, b) = await Net.ConnectedPairAsync(_engine).Timeout();
            using (a)
            using (b)
            {
                await Net.SendAllAsync(a, new byte[] { 42, 43, 44 });
                byte[] got = new byte[3];
                await Net.ReceiveExactlyAsync(b, got);
                if (!got.AsSpan().SequenceEqual(new byte[] { 42, 43, 44 }))
                {
                    Violate($"the echo after the chaos returned {Convert.ToHexString(got)}");
                }
            }
        }
        catch (Exception e)
        {
            Violate($"the engine no longer serves a fresh connection after the chaos: {e.GetType().Name}: {e.Message}");
        }

        // Dispose the engine while the threads keep submitting, cancelling and closing.
        EnterPhase("engine dispose");
        await RegisterSurvivorsAsync();
        _stop = false;
        Task burst = RunWorkersAsync(TimeSpan.FromMilliseconds(150), burst: 1);
        await Task.Delay(50);
        Task dispose = Task.Run(() =>
        {
            _engineDisposeStarted = true;
            _engine.Dispose();
            _engineDisposeReturned = true;

            // At once: the burst goes on closing sockets, which ends their registrations too.
            CheckRegistrationsEnded();
        });
        if (await Task.WhenAny(dispose, Task.Delay(HangBound)) != dispose)
        {
            Violate($"engine.Dispose() did not return within {HangBound.TotalSeconds:F0} s");
        }

        await burst;
        clock.Stop();

        EnterPhase("drain");
        Task all = Task.WhenAll(_observers.ToArray());
        var waited = Stopwatch.StartNew();
        while ((!all.IsCompleted || Interlocked.Read(ref _completed) < Submitted) && waited.Elapsed < HangBound)
        {
            await Task.Delay(20);
        }

        if (!all.IsCompleted || Interlocked.Read(ref _completed) < Submitted)
        {
            string stuck = string.Join("; ", _pending.Values.OrderBy(o => o.Id).Take(10).Select(o => o.ToString()));
            Violate($"HANG: {Submitted - Interlocked.Read(ref _completed)} operations never completed within {HangBound.TotalSeconds:F0} s after the engine was disposed: {stuck}");
        }

        // A completion that arrives now is one too many (or belongs to a refused submission).
        await Task.Delay(100);
        _queue.Complete();
        await Task.WhenAny(reader, Task.Delay(HangBound));

        foreach (ProactorSocket s in _everyClientSocket)
        {
            Close(s);
        }

        lock (_lock)
        {
            foreach (ProactorSocket s in _listeners)
            {
                s.Dispose();
            }
        }

        foreach (CancellationTokenSource cts in _sources)
        {
            cts.Dispose();
        }

        double seconds = clock.Elapsed.TotalSeconds;
        return $"{_engine.Name}: seed {_seed}: {Submitted} operations in {seconds:F1} s ({Submitted / seconds:F0} operations/s), " +
            $"{Interlocked.Read(ref _refused)} refused at submission, {Interlocked.Read(ref _completed)} completions, " +
            $"{Interlocked.Read(ref _offEngineThread)} inline continuations off the engine thread, {ReactorSummary()}, {_violations.Count} violations";
    }

    private async Task RunWorkersAsync(TimeSpan duration, int burst)
    {
        _stop = false;
        var threads = new Thread[Workers];
        for (int w = 0; w < Workers; w++)
        {
            // HashCode.Combine is seeded per process; the seed must replay in another one.
            var random = new Random(unchecked((_seed * 31) + (w * 7919) + (burst * 104729)));
            threads[w] = new Thread(() => Work(random)) { IsBackground = true, Name = $"chaos-{w}" };
            threads[w].Start();
        }

        await Task.Delay(duration);
        _stop = true;
        // One deadline for all: stuck workers must not add up their bounds past the suite's
        // watchdog, which would end the run without saying what was stuck.
        var joining = Stopwatch.StartNew();
        foreach (Thread t in threads)
        {
            TimeSpan left = HangBound - joining.Elapsed;
            if (!await Task.Run(() => t.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero)))
            {
                Violate($"worker {t.Name} is stuck in a call into the engine (submit, cancel or dispose) during {_phase}");
            }
        }
    }

    private void Work(Random random)
    {
        while (!_stop)
        {
            try
            {
                Act(random);
            }
            catch (ObjectDisposedException)
            {
                // Another thread disposed the socket, listener or engine first: a valid refusal.
            }
            catch (Exception e)
            {
                Violate($"an action threw {e.GetType().Name}: {e.Message}");
            }
        }
    }

    private void Act(Random random)
    {
        int roll = random.Next(100);
        bool crowded = _pending.Count >= MaxInFlight;
        if (crowded)
        {
            Thread.Yield();
        }

        Connection? c = PickConnection(random);
        if (c is not null && _readiness && random.Next(100) < ReactorPercent)
        {
            ActReactor(random, c, crowded);
            return;
        }

        if (c is null || (roll is >= 65 and < 72 && !crowded))
        {
            if (c is not null && ConnectionCount() >= MaxConnections)
            {
                CloseSide(c, random.Next(2) == 0, reset: random.Next(2) == 0);
            }
            else if (!crowded)
            {
                StartConnect(random);
            }

            return;
        }

        bool sideA = random.Next(2) == 0;
        switch (roll)
        {
            case < 30 or >= 85 when !crowded:
                StartReceive(random, sideA ? c.BToA : c.AToB);
                break;
            case >= 30 and < 55 when !crowded:
                StartSend(random, sideA ? c.AToB : c.BToA);
                break;
            case < 65 or >= 85:
                CancelSome(random, crowded ? 8 : 1);
                break;
            case < 76:
                CloseSide(c, sideA, reset: false);
                break;
            case < 80:
                CloseSide(c, sideA, reset: true);
                break;
            case < 83:
                try
                {
                    (sideA ? c.A : c.B).Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                    // Not connected any more (the peer reset it): a valid refusal.
                }

                break;
            default:
                CloseAListener(random);
                break;
        }
    }

    private Connection? PickConnection(Random random)
    {
        lock (_lock)
        {
            // A connection with a closed side leaves the draw: operations on closed sockets are only
            // refused at submission and would crowd out the interesting ones. Its other side is
            // closed too, which keeps the number of descriptors bounded (select handles none at or
            // above 1024) and aborts what was pending there.
            foreach (Connection gone in _connections.Where(c => c.A.IsDisposed || c.B.IsDisposed))
            {
                Close(gone.A);
                Close(gone.B);
            }

            _connections.RemoveAll(c => c.A.IsDisposed || c.B.IsDisposed);
            return _connections.Count == 0 ? null : _connections[random.Next(_connections.Count)];
        }
    }

    private int ConnectionCount()
    {
        lock (_lock)
        {
            return _connections.Count;
        }
    }

    private (CancellationToken Token, TimeSpan Timeout) Limits(Random random)
    {
        CancellationToken token = default;
        if (random.Next(3) == 0)
        {
            var cts = new CancellationTokenSource();
            _sources.Add(cts);
            lock (_lock)
            {
                _liveTokens.Add(cts);
            }

            token = cts.Token;
        }

        TimeSpan timeout = random.Next(5) == 0 ? TimeSpan.FromMilliseconds(random.Next(1, 40)) : Timeout.InfiniteTimeSpan;
        return (token, timeout);
    }

    private void CancelSome(Random random, int count)
    {
        for (int i = 0; i < count; i++)
        {
            CancellationTokenSource cts;
            lock (_lock)
            {
                if (_liveTokens.Count == 0)
                {
                    return;
                }

                int index = random.Next(_liveTokens.Count);
                cts = _liveTokens[index];
                _liveTokens[index] = _liveTokens[^1];
                _liveTokens.RemoveAt(_liveTokens.Count - 1);
            }

            // Cancel runs the registrations on this thread: a backend that completes the operation
            // right here (instead of handing it to its loop) shows up as an off-thread continuation.
            cts.Cancel();
        }
    }

    private void StartReceive(Random random, Direction d)
    {
        var (token, timeout) = Limits(random);
        bool viaQueue = random.Next(4) == 0;
        byte[] buffer = new byte[random.Next(4) == 0 ? random.Next(1, 256 * 1024) : random.Next(1, 4096)];
        lock (d.Gate)
        {
            var op = new Op(this, Interlocked.Increment(ref _nextId), viaQueue ? "queued receive" : "receive", d, d.ReceiveSequence++, buffer, -1);
            if (viaQueue)
            {
                Submit(op, () => _queue.SubmitReceive(d.Receiver, buffer, op, token));
            }
            else
            {
                Submit(op, () => Observe(op, timeout == Timeout.InfiniteTimeSpan ? d.Receiver.ReceiveAsync(buffer, token) : d.Receiver.ReceiveAsync(buffer, timeout, token)));
            }
        }
    }

    private void StartSend(Random random, Direction d)
    {
        var (token, timeout) = Limits(random);
        bool viaQueue = random.Next(4) == 0;
        int size = random.Next(8) == 0 ? random.Next(1, 512 * 1024) : random.Next(1, 8192);
        byte[] buffer = new byte[size];

        // The stream position is taken and the send submitted under one lock: submission order
        // is the order the direction promises to keep, so it must be the stream's order too.
        lock (d.Gate)
        {
            long start = d.SendPosition;
            Stress.FillStream(buffer, start);
            d.SendPosition += size;
            var op = new Op(this, Interlocked.Increment(ref _nextId), viaQueue ? "queued send" : "send", d, d.SendSequence++, buffer, start);
            if (viaQueue)
            {
                Submit(op, () => _queue.SubmitSend(d.Sender, buffer, op, token));
            }
            else
            {
                Submit(op, () => Observe(op, timeout == Timeout.InfiniteTimeSpan ? d.Sender.SendAsync(buffer, token) : d.Sender.SendAsync(buffer, timeout, token)));
            }
        }
    }

    /// <summary>
    /// A connection through a listener of its own: with one client per listener the accepted
    /// socket is surely that client's peer (endpoints can be reused within the run on loopback),
    /// and closing a listener is still an action that aborts its pending accept.
    /// </summary>
    private void StartConnect(Random random)
    {
        ProactorSocket listener = Net.Listen(_engine);

        // Read before the listener is published: once in the list, another thread's random close
        // may end it between the getter's disposed check and getsockname (a null end point that
        // is no engine's fault).
        EndPoint? target = listener.LocalEndPoint;
        lock (_lock)
        {
            _listeners.Add(listener);
        }

        var client = new ProactorSocket(_engine, AddressFamily.InterNetwork);
        _everyClientSocket.Add(client);
        var pair = new PendingConnection(this, client, listener);
        if (target is null)
        {
            // The engine's Dispose closed the listener under a socket object that is not marked
            // disposed (its end point then reads as null): nothing to connect to.
            if (!_engine.IsDisposed)
            {
                Violate("a listening socket of a running engine reported no local end point");
            }

            return;
        }

        var (acceptToken, _) = Limits(random);
        var accept = new Op(this, Interlocked.Increment(ref _nextId), "accept", null, 0, null, -1);
        Submit(accept, () => Observe(accept, listener.AcceptAsync(acceptToken), pair.Accepted));

        var (token, timeout) = Limits(random);
        var connect = new Op(this, Interlocked.Increment(ref _nextId), "connect", null, 0, null, -1);
        Submit(connect, () => Observe(connect, client.ConnectAsync(target, timeout, token), pair.Connected));
    }

    private sealed class PendingConnection(ChaosRun run, ProactorSocket client, ProactorSocket listener)
    {
        private ProactorSocket? _accepted;
        private bool _connected;
        private int _outstanding = 2;

        public void Accepted(ProactorSocket? accepted)
        {
            if (accepted is not null)
            {
                run._everyClientSocket.Add(accepted);
            }

            _accepted = accepted;
            Done();
        }

        public void Connected(bool connected)
        {
            _connected = connected;
            Done();
        }

        private void Done()
        {
            if (Interlocked.Decrement(ref _outstanding) != 0)
            {
                return;
            }

            listener.Dispose();
            lock (run._lock)
            {
                run._listeners.Remove(listener);
                if (_connected && _accepted is not null && !client.IsDisposed && !_accepted.IsDisposed)
                {
                    run._connections.Add(new Connection(client, _accepted));
                    return;
                }
            }

            run.Close(client);
            if (_accepted is not null)
            {
                run.Close(_accepted);
            }
        }
    }

    private void CloseSide(Connection c, bool sideA, bool reset)
    {
        ProactorSocket s = sideA ? c.A : c.B;
        if (reset)
        {
            try
            {
                s.LingerState = new LingerOption(true, 0); // close sends RST
            }
            catch (SocketException)
            {
                // Already reset by the peer: a plain close then.
            }
        }

        Close(s);
    }

    private void CloseAListener(Random random)
    {
        ProactorSocket listener;
        lock (_lock)
        {
            if (_listeners.Count == 0)
            {
                return;
            }

            listener = _listeners[random.Next(_listeners.Count)];
        }

        listener.Dispose(); // aborts its pending accept
    }

    private void Submit(Op op, Action submit)
    {
        Interlocked.Increment(ref _submitted);
        _pending[op.Id] = op;
        try
        {
            submit();
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _refused);
            _pending.TryRemove(op.Id, out _);
            op.Refuse(e);
            if (e is not ObjectDisposedException)
            {
                Violate($"{op} was refused at submission with {e.GetType().Name}: {e.Message}");
            }
        }
    }

    private void Observe(Op op, ValueTask<int> operation) => _observers.Add(ObserveAsync(op, operation));

    private void Observe(Op op, ValueTask<ProactorSocket> operation, Action<ProactorSocket?> onEnd) =>
        _observers.Add(ObserveAsync(op, operation, onEnd));

    private void Observe(Op op, ValueTask operation, Action<bool> onEnd) => _observers.Add(ObserveAsync(op, operation, onEnd));

    private async Task ObserveAsync(Op op, ValueTask<int> operation)
    {
        ValueTaskAwaiter<int> awaiter = operation.GetAwaiter();
        string? offEngine = await WhereDeliveredAsync(awaiter.IsCompleted, awaiter.UnsafeOnCompleted);
        Outcome outcome;
        try
        {
            outcome = Outcome.Transferred(awaiter.GetResult());
        }
        catch (Exception e)
        {
            outcome = Failure(op, e);
        }

        CheckDelivery(op, offEngine);
        op.Complete(outcome);
    }

    private async Task ObserveAsync(Op op, ValueTask<ProactorSocket> operation, Action<ProactorSocket?> onEnd)
    {
        ValueTaskAwaiter<ProactorSocket> awaiter = operation.GetAwaiter();
        string? offEngine = await WhereDeliveredAsync(awaiter.IsCompleted, awaiter.UnsafeOnCompleted);
        Outcome outcome;
        ProactorSocket? accepted = null;
        try
        {
            accepted = awaiter.GetResult();
            outcome = Outcome.Transferred(0);
        }
        catch (Exception e)
        {
            outcome = Failure(op, e);
        }

        CheckDelivery(op, offEngine);
        op.Complete(outcome);
        onEnd(accepted);
    }

    private async Task ObserveAsync(Op op, ValueTask operation, Action<bool> onEnd)
    {
        ValueTaskAwaiter awaiter = operation.GetAwaiter();
        string? offEngine = await WhereDeliveredAsync(awaiter.IsCompleted, awaiter.UnsafeOnCompleted);
        Outcome outcome;
        try
        {
            awaiter.GetResult();
            outcome = Outcome.Transferred(0);
        }
        catch (Exception e)
        {
            outcome = Failure(op, e);
        }

        CheckDelivery(op, offEngine);
        op.Complete(outcome);
        onEnd(outcome.Error is null);
    }

    /// <summary>
    /// Waits until the operation completes and says where its continuation ran: null when that
    /// was an engine thread, or when the await did not suspend (already complete), or on a
    /// thread-pool thread; otherwise the thread's name. The thread pool is the runtime's own
    /// fallback: a continuation registered a moment after the operation completed is queued
    /// there by ManualResetValueTaskSourceCore, whatever the dispatch; that race belongs to the
    /// awaiting side. What must never happen with Inline dispatch is a continuation run by a
    /// thread that cancelled, timed out or closed (the chaos workers are such threads).
    /// </summary>
    private async Task<string?> WhereDeliveredAsync(bool alreadyCompleted, Action<Action> unsafeOnCompleted)
    {
        if (alreadyCompleted)
        {
            return null;
        }

        var delivered = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        unsafeOnCompleted(() =>
        {
            // Once the engine's own thread has exited (Dispose), nothing is left to deliver: a
            // close or cancel that races the shutdown completes its operations itself (documented).
            Thread current = Thread.CurrentThread;
            bool engineGone = _engine.IsDisposed && !_engine.IsEngineThread;
            delivered.SetResult(_engine.IsEngineThread || current.IsThreadPoolThread || engineGone ? null : current.Name ?? $"#{current.ManagedThreadId}");
        });

        // The bookkeeping that follows takes locks: it runs off the engine's loop (the source
        // completes asynchronously).
        return await delivered.Task.ConfigureAwait(false);
    }

    private void CheckDelivery(Op op, string? offEngineThread)
    {
        if (_inline && offEngineThread is not null)
        {
            Interlocked.Increment(ref _offEngineThread);
            Violate($"{op} ran its inline continuation on thread '{offEngineThread}' (not an engine thread) during {_phase}");
        }
    }

    private Outcome Failure(Op op, Exception e)
    {
        switch (e)
        {
            case SocketException se:
                return Outcome.Failed(se.SocketErrorCode.ToString());
            case OperationCanceledException:
                return Outcome.Failed("Canceled");
            case ObjectDisposedException:
                return Outcome.Failed("ObjectDisposed");
            default:
                Violate($"{op} failed with an undocumented {e.GetType().Name}: {e.Message}");
                return Outcome.Failed(e.GetType().Name);
        }
    }

    private async Task DrainQueueAsync()
    {
        await foreach (Completion c in _queue.Reader.ReadAllAsync())
        {
            if (c.UserToken is not Op op)
            {
                Violate($"a completion without a known token: {c}");
                continue;
            }

            c.AcceptedSocket?.Dispose();
            op.Complete(c.IsSuccess ? Outcome.Transferred(c.BytesTransferred) : Outcome.Failed(c.IsCanceled ? "Canceled" : c.Error.ToString()));
        }
    }

    private void Violate(string message) => _violations.Enqueue($"[{_phase}] {message}");

    /// <summary>Names the phase for violations, and says it at once in the test log: a run that
    /// hangs past the suite's watchdog then shows how far it got.</summary>
    private void EnterPhase(string phase)
    {
        _phase = phase;
        NUnit.Framework.TestContext.Progress.WriteLine($"{_engine.Name}: race run: {phase} ({Violations.Count} violations so far)");
    }

    private readonly record struct Outcome(int Bytes, string? Error)
    {
        public static Outcome Transferred(int bytes) => new(bytes, null);

        public static Outcome Failed(string error) => new(0, error);
    }

    private sealed class Connection(ProactorSocket a, ProactorSocket b)
    {
        public ProactorSocket A { get; } = a;

        public ProactorSocket B { get; } = b;

        public Direction AToB { get; } = new(a, b);

        public Direction BToA { get; } = new(b, a);
    }

    /// <summary>
    /// One direction of a connection and the check of its counter stream. Sends and receives are
    /// numbered at submission; their outcomes are applied in that order, because that is the
    /// order in which the direction hands out and fills bytes, whatever order the observers ran in.
    /// </summary>
    private sealed class Direction(ProactorSocket sender, ProactorSocket receiver)
    {
        private readonly SortedDictionary<long, (Op Op, Outcome Outcome)> _sends = new();
        private readonly SortedDictionary<long, (Op Op, Outcome Outcome)> _receives = new();
        private readonly List<byte> _unverified = new();
        private long _nextSend;
        private long _nextReceive;
        private long _settled;          // every byte below was reported sent by a send that succeeded, in order
        private bool _frozen;           // a send failed: bytes past _settled are no longer known
        private long _received;         // bytes received, in receive-submission order
        private long _verified;         // bytes compared with the stream (or given up on once frozen)
        private bool _ended;
        private bool _broken;           // a receive failed with an error: a reset may have dropped data
        private bool _mismatch;
        private static int s_names;

        public string Name { get; } = $"direction {Interlocked.Increment(ref s_names)}";

        public ProactorSocket Sender { get; } = sender;

        public ProactorSocket Receiver { get; } = receiver;

        public long SendPosition { get; set; }

        public long SendSequence { get; set; }

        public long ReceiveSequence { get; set; }

        public Lock Gate { get; } = new();

        public void Apply(Op op, Outcome outcome, Action<string> violate)
        {
            lock (Gate)
            {
                (op.IsSend ? _sends : _receives)[op.Sequence] = (op, outcome);
                while (_sends.Remove(_nextSend, out var s))
                {
                    _nextSend++;
                    ApplySend(s.Op, s.Outcome, violate);
                }

                while (_receives.Remove(_nextReceive, out var r))
                {
                    _nextReceive++;
                    ApplyReceive(r.Op, r.Outcome, violate);
                }

                Verify(violate);
            }
        }

        private void ApplySend(Op op, Outcome outcome, Action<string> violate)
        {
            if (outcome.Error is null && outcome.Bytes != op.Buffer!.Length)
            {
                violate($"{op} reported {outcome.Bytes} of {op.Buffer.Length} bytes sent");
            }

            if (_frozen)
            {
                return;
            }

            if (outcome.Error is null)
            {
                _settled = op.StreamStart + op.Buffer!.Length;
            }
            else
            {
                _frozen = true; // an unknown prefix of this send went out; later bytes shift
            }
        }

        private void ApplyReceive(Op op, Outcome outcome, Action<string> violate)
        {
            if (outcome.Error is not null)
            {
                if (outcome.Error is not ("Canceled" or "TimedOut" or "OperationAborted" or "ObjectDisposed"))
                {
                    _broken = true;
                }

                return;
            }

            if (outcome.Bytes < 0 || outcome.Bytes > op.Buffer!.Length)
            {
                violate($"{op} reported {outcome.Bytes} bytes into a {op.Buffer!.Length}-byte buffer");
                return;
            }

            if (outcome.Bytes == 0)
            {
                // The end may come early only if the sender's side was closed (RST drops data, and
                // once another call consumed the reset a receive reads an end) or this side saw an
                // error; with the sender still open it was a Shutdown(Send), after which every byte
                // a successful send reported must already be here. The engine's Dispose closes the
                // sender too, without marking the socket object disposed.
                if (!_ended && !_broken && !Sender.IsDisposed && !Sender.Engine.IsDisposed && _received < _settled)
                {
                    violate($"{op}: end of stream after {_received} bytes, but sends reported {_settled} bytes sent");
                }

                _ended = true;
                return;
            }

            if (_ended)
            {
                violate($"{op} received {outcome.Bytes} bytes after the end of the stream");
            }

            _unverified.AddRange(op.Buffer.AsSpan(0, outcome.Bytes).ToArray());
            _received += outcome.Bytes;
            if (_received > SendPosition)
            {
                violate($"{op}: {_received} bytes received but only {SendPosition} were ever submitted: data duplicated");
            }
        }

        private void Verify(Action<string> violate)
        {
            if (_mismatch)
            {
                _verified += _unverified.Count;
                _unverified.Clear();
                return;
            }

            int count = (int)Math.Max(0, Math.Min(_received, _settled) - _verified);
            for (int i = 0; i < count; i++)
            {
                byte expected = Stress.StreamByte(_verified + i);
                if (_unverified[i] != expected)
                {
                    violate($"{Name}: byte {_verified + i} is {_unverified[i]:x2} where the stream has {expected:x2}: data lost, duplicated or reordered");
                    _mismatch = true; // report once per direction
                    Verify(violate);
                    return;
                }
            }

            _unverified.RemoveRange(0, count);
            _verified += count;
            if (_frozen && _verified >= _settled)
            {
                // Past the first failed send nothing can be checked any more.
                _verified += _unverified.Count;
                _unverified.Clear();
            }
        }
    }

    private sealed class Op(ChaosRun run, long id, string what, Direction? direction, long sequence, byte[]? buffer, long streamStart)
    {
        private int _completions;
        private int _refused;

        public long Id { get; } = id;

        public long Sequence { get; } = sequence;

        public byte[]? Buffer { get; } = buffer;

        public long StreamStart { get; } = streamStart;

        public bool IsSend => StreamStart >= 0;

        public void Complete(Outcome outcome)
        {
            int n = Interlocked.Increment(ref _completions);
            if (n > 1)
            {
                run.Violate($"{this} completed {n} times");
                return;
            }

            if (Volatile.Read(ref _refused) != 0)
            {
                run.Violate($"{this} completed although its submission threw");
                return;
            }

            run._pending.TryRemove(Id, out _);
            Interlocked.Increment(ref run._completed);
            direction?.Apply(this, outcome, run.Violate);
        }

        public void Refuse(Exception e)
        {
            Volatile.Write(ref _refused, 1);
            if (Volatile.Read(ref _completions) != 0)
            {
                run.Violate($"{this} completed although its submission threw {e.GetType().Name}");
            }

            // Keep the direction's numbering gapless: a refused operation moved no bytes.
            direction?.Apply(this, Outcome.Failed("ObjectDisposed"), run.Violate);
        }

        public override string ToString() => $"{what} #{Id}" + (Buffer is null ? "" : $" ({Buffer.Length} B, {direction!.Name} #{Sequence})");
    }
}
