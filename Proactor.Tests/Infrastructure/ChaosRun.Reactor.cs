using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Tests.Infrastructure;

/// <summary>
/// The Reactor's part of the race: handlers registered on connection sides, their events changed
/// and their registrations disposed by the workers (and by the handlers themselves), sockets closed
/// under them, <see cref="ProactorSocket.WaitAsync"/> awaited with tokens and timeouts, and the
/// engine disposed with registrations still alive.
/// </summary>
/// <remarks>
/// The handlers only observe: they move no bytes, so the counter streams stay checkable. What they
/// check, as violations:
/// <list type="bullet">
/// <item>a handler runs only on an engine thread, and hears of one direction per call;</item>
/// <item>no call starts after <see cref="ReactorRegistration.Dispose"/> returned (on a worker, or in the handler itself);</item>
/// <item>no call for a direction starts after a <see cref="ReactorRegistration.ChangeEvents"/> that
///   removed it returned (a call already running may finish: the check is at the call's start);</item>
/// <item>no call starts after the socket's close returned, nor after the engine's Dispose returned;</item>
/// <item>a wait completes once, with its own direction (HangUp and Error may come with it), or with a documented error;</item>
/// <item>once the engine's Dispose returned, a registration it was watching for (armed, not
///   disposed, its socket not closed by the run) is no longer active.</item>
/// </list>
/// Every "returned" is recorded after the call returns, so a record can only be late: a late
/// record misses a violation, it never invents one.
/// </remarks>
internal sealed partial class ChaosRun
{
    /// <summary>Share (percent) of actions that are Reactor actions, where the backend has readiness.</summary>
    private const int ReactorPercent = 8;

    /// <summary>Most calls one registration hears before its handler disposes it: a level-triggered
    /// source reports a writable socket, or unread data, on every turn of the loop.</summary>
    private const int MaxHandlerCalls = 200;

    /// <summary>One in this many handler calls closes its own socket from the loop thread.</summary>
    private const int HandlerClosesOneIn = 64;

    private const SocketEvents Directions = SocketEvents.Readable | SocketEvents.Writable;

    // A handler never takes _lock: PickConnection closes sockets under it, and a close waits for
    // the socket's running handler call.
    private readonly Lock _watchLock = new();
    private readonly Dictionary<ProactorSocket, Watch> _watches = new(); // under _watchLock: the live registration of a socket
    private readonly ConcurrentBag<Watch> _everyWatch = new();
    private readonly ConcurrentDictionary<ProactorSocket, byte> _closeClaimed = new();
    private readonly ConcurrentDictionary<ProactorSocket, byte> _closeReturned = new();
    private volatile bool _survivorsStarted;
    private volatile bool _engineDisposeStarted;
    private volatile bool _engineDisposeReturned;
    private int _stillActive = -1;
    private int _aliveAtDispose;
    private bool _readiness;
    private long _handlerCalls;
    private long _waits;

    /// <summary>Decides once whether the backend offers readiness (IOCP does not: the Reactor
    /// actions are then left out). The probe is a first registration of the run.</summary>
    private void ProbeReadiness()
    {
        Connection first;
        lock (_lock)
        {
            first = _connections[0];
        }

        try
        {
            Register(first.B, SocketEvents.Readable, new Random(_seed));
            _readiness = true;
        }
        catch (PlatformNotSupportedException)
        {
            _readiness = false;
        }
    }

    private void ActReactor(Random random, Connection c, bool crowded)
    {
        ProactorSocket side = random.Next(2) == 0 ? c.A : c.B;
        switch (random.Next(10))
        {
            case < 4:
                Register(side, RandomEvents(random), random);
                break;
            case < 6:
                ChangeEvents(PickWatch(random), RandomEvents(random));
                break;
            case < 8:
                DisposeRegistration(PickWatch(random));
                break;
            default:
                if (!crowded)
                {
                    StartWait(random, side);
                }

                break;
        }
    }

    private static SocketEvents RandomEvents(Random random) => random.Next(3) switch
    {
        0 => SocketEvents.Readable,
        1 => SocketEvents.Writable,
        _ => Directions,
    };

    /// <summary>
    /// Before the engine's disposal: a registration on every open connection side that has none,
    /// armed for sure (each heard of Writable once) and then left on Readable, which an idle
    /// socket does not report: the disposal must end live registrations, without recursing.
    /// </summary>
    private async Task RegisterSurvivorsAsync()
    {
        if (!_readiness)
        {
            return;
        }

        _survivorsStarted = true;
        ProactorSocket[] sides;
        lock (_lock)
        {
            sides = _connections.SelectMany(c => new[] { c.A, c.B }).ToArray();
        }

        var random = new Random(unchecked(_seed * 17));
        var survivors = new List<Watch>();
        foreach (ProactorSocket side in sides)
        {
            try
            {
                if (Register(side, Directions, random, budget: int.MaxValue, mayClose: false) is { } watch)
                {
                    survivors.Add(watch);
                }
            }
            catch (ObjectDisposedException)
            {
                // closed by a handler meanwhile
            }
        }

        for (int i = 0; i < 200 && survivors.Any(w => w.Calls == 0 && !w.Socket.IsDisposed); i++)
        {
            await Task.Delay(10);
        }

        foreach (Watch w in survivors)
        {
            try
            {
                ChangeEvents(w, SocketEvents.Readable);
            }
            catch (ObjectDisposedException)
            {
                // its socket was closed (a handler may close its own)
            }
        }

        _aliveAtDispose = _everyWatch.Count(w => w.Registration?.IsActive == true);
    }

    /// <summary>Registers a handler on <paramref name="socket"/>, or changes the events of the one
    /// it has. Returns the new registration's watch, if one was made.</summary>
    private Watch? Register(ProactorSocket socket, SocketEvents events, Random random, int budget = 0, bool mayClose = true)
    {
        var watch = new Watch(this, socket, events, budget > 0 ? budget : random.Next(1, MaxHandlerCalls + 1), random.Next(), mayClose);
        Watch? existing;
        lock (_watchLock)
        {
            if (!_watches.TryGetValue(socket, out existing))
            {
                _watches[socket] = watch;
            }
        }

        if (existing is not null)
        {
            ChangeEvents(existing, events);
            return null;
        }

        try
        {
            watch.Registration = socket.RegisterHandler(watch, events);
            watch.BeforeEngineDispose = !_engineDisposeStarted;
            watch.DuringChaos = !_survivorsStarted;
            _everyWatch.Add(watch);
        }
        catch
        {
            Forget(watch);
            throw;
        }

        return watch;
    }

    private Watch? PickWatch(Random random)
    {
        lock (_watchLock)
        {
            // A closed socket's registration ended with it: it leaves the draw.
            foreach (ProactorSocket gone in _watches.Keys.Where(s => s.IsDisposed).ToList())
            {
                _watches.Remove(gone);
            }

            return _watches.Count == 0 ? null : _watches.Values.ElementAt(random.Next(_watches.Count));
        }
    }

    private void Forget(Watch watch)
    {
        lock (_watchLock)
        {
            if (_watches.TryGetValue(watch.Socket, out Watch? current) && current == watch)
            {
                _watches.Remove(watch.Socket);
            }
        }
    }

    /// <summary>
    /// Changes a registration's events. Changes of one registration are serialized, so the record
    /// follows the registration: a direction is allowed from before the call that adds it until
    /// the call that removes it has returned.
    /// </summary>
    private static void ChangeEvents(Watch? watch, SocketEvents events)
    {
        if (watch?.Registration is not { } registration)
        {
            return; // not registered yet (another worker is in RegisterHandler)
        }

        lock (watch.Changer)
        {
            lock (watch.State)
            {
                watch.Allowed |= events;
            }

            registration.ChangeEvents(events); // throws ObjectDisposedException once it ended
            lock (watch.State)
            {
                watch.Allowed = events;
            }
        }
    }

    private void DisposeRegistration(Watch? watch)
    {
        if (watch?.Registration is not { } registration)
        {
            return;
        }

        lock (watch.Changer)
        {
            registration.Dispose();
            watch.MarkDisposed();
        }

        Forget(watch);
    }

    /// <summary>A readiness wait, observed like the other operations (its token is one the
    /// workers may cancel; a timeout is a token that cancels itself).</summary>
    private void StartWait(Random random, ProactorSocket socket)
    {
        if (_engine.Dispatch == CompletionDispatch.Queue)
        {
            return; // no awaitable continuations there (WaitAsync refuses)
        }

        var (token, timeout) = Limits(random);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            var timed = CancellationTokenSource.CreateLinkedTokenSource(token);
            _sources.Add(timed);
            timed.CancelAfter(timeout);
            token = timed.Token;
        }

        SocketEvents events = random.Next(2) == 0 ? SocketEvents.Readable : SocketEvents.Writable;
        Interlocked.Increment(ref _waits);
        var op = new Op(this, Interlocked.Increment(ref _nextId), $"wait for {events}", null, 0, null, -1);
        Submit(op, () => _observers.Add(ObserveWaitAsync(op, socket, events, socket.WaitAsync(events, token))));
    }

    private async Task ObserveWaitAsync(Op op, ProactorSocket socket, SocketEvents wanted, ValueTask<SocketEvents> operation)
    {
        ValueTaskAwaiter<SocketEvents> awaiter = operation.GetAwaiter();
        string? offEngine = await WhereDeliveredAsync(awaiter.IsCompleted, awaiter.UnsafeOnCompleted);
        Outcome outcome;
        try
        {
            SocketEvents ready = awaiter.GetResult();
            if ((ready & wanted) == 0 || (ready & ~(wanted | SocketEvents.HangUp | SocketEvents.Error)) != 0)
            {
                Violate($"{op} completed with {ready} ({SocketState(socket)})");
            }

            outcome = Outcome.Transferred(0);
        }
        catch (Exception e)
        {
            outcome = Failure(op, e);
        }

        CheckDelivery(op, offEngine);
        op.Complete(outcome);
    }

    /// <summary>
    /// Every close of a chaos socket comes here. The first caller is the one whose Dispose does
    /// the close (a second Dispose returns at once, possibly while the first still waits for a
    /// running handler call): only its return is recorded, and only off the engine's threads,
    /// where Dispose waits for a running call.
    /// </summary>
    private void Close(ProactorSocket socket)
    {
        if (!_closeClaimed.TryAdd(socket, 0))
        {
            socket.Dispose();
            return;
        }

        socket.Dispose();
        if (!_engine.IsEngineThread)
        {
            _closeReturned.TryAdd(socket, 0);
        }
    }

    /// <summary>The loop calls a handler: the checks of the class remarks.</summary>
    private void OnHandlerCall(Watch watch, ProactorSocket socket, SocketEvents events)
    {
        Interlocked.Increment(ref _handlerCalls);
        if (!socket.Engine.IsEngineThread)
        {
            Thread t = Thread.CurrentThread;
            Violate($"{watch} was called on thread '{t.Name ?? $"#{t.ManagedThreadId}"}', not an engine thread, with {events}");
        }

        if (socket != watch.Socket)
        {
            Violate($"{watch} was called for another socket");
        }

        if ((events & Directions) == Directions)
        {
            Violate($"{watch} was called with {events}: the directions arrive in separate calls");
        }
        else if ((events & Directions) == 0)
        {
            Violate($"{watch} (events {watch.Allowed}) was called with {events}, which names no direction ({SocketState(socket)})");
        }

        if (_engineDisposeReturned)
        {
            Violate($"{watch} was called with {events} after the engine's Dispose returned");
        }

        if (_closeReturned.ContainsKey(socket))
        {
            Violate($"{watch} was called with {events} after its socket's close returned");
        }

        lock (watch.State)
        {
            if (watch.Disposed)
            {
                Violate($"{watch} was called with {events} after its registration's Dispose returned");
            }

            SocketEvents removed = events & Directions & ~watch.Allowed;
            if (removed != 0)
            {
                Violate($"{watch} was called with {events} after ChangeEvents({watch.Allowed}) returned");
            }
        }
    }

    /// <summary>
    /// After the engine's Dispose returned: its disposal ended every registration it was watching
    /// for (their waits were aborted). Checked only where that surely held: registered before the
    /// disposal began, and armed by the loop (called at least once, or registered during the chaos,
    /// long before: the loop arms a registration on its next turn), never told of an Error (a
    /// failed wait stops its direction for good) and not disposed by the run. A registration made
    /// while the engine shut down may never reach the loop: it is counted, not judged.
    /// </summary>
    private void CheckRegistrationsEnded()
    {
        int stillActive = 0;
        foreach (Watch w in _everyWatch)
        {
            if (w.Registration?.IsActive != true)
            {
                continue;
            }

            stillActive++;
            if (w.BeforeEngineDispose && (w.Calls > 0 || w.DuringChaos) && !w.SawError && !w.Disposed)
            {
                Violate($"{w} (events {w.Registration.Events}, {w.Calls} calls) is still active after the engine's Dispose returned");
            }
        }

        _stillActive = stillActive;
    }

    /// <summary>What a violation report needs to know of a socket's end.</summary>
    private string SocketState(ProactorSocket socket) =>
        $"socket {(socket.IsDisposed ? "closing or closed" : "open")}, {(_closeClaimed.ContainsKey(socket) ? "closed by the run" : "not closed by the run")}, engine {(_engine.IsDisposed ? "disposed" : "running")}";

    private string ReactorSummary()
    {
        if (!_readiness)
        {
            return "no readiness on this backend (Reactor actions left out)";
        }

        return $"{_everyWatch.Count} registrations ({_aliveAtDispose} active when the engine's Dispose began, {_stillActive} after), " +
            $"{Interlocked.Read(ref _handlerCalls)} handler calls, {Interlocked.Read(ref _waits)} waits";
    }

    /// <summary>An observe-only handler and the record of what its registration allows.</summary>
    private sealed class Watch(ChaosRun run, ProactorSocket socket, SocketEvents events, int budget, int seed, bool mayClose) : IReactorHandler
    {
        private static int s_names;
        private readonly Random _random = new(seed); // handler calls of one registration do not overlap
        private int _calls;
        private ReactorRegistration? _registration;

        public ProactorSocket Socket { get; } = socket;

        public string Name { get; } = $"handler {Interlocked.Increment(ref s_names)}";

        /// <summary>Set once RegisterHandler returned (the loop may call the handler before).</summary>
        public ReactorRegistration? Registration
        {
            get => Volatile.Read(ref _registration);
            set => Volatile.Write(ref _registration, value);
        }

        /// <summary>Serializes the workers' changes of this registration (never taken by the handler).</summary>
        public Lock Changer { get; } = new();

        /// <summary>Guards <see cref="Allowed"/> and <see cref="Disposed"/>; never held across a call into the engine.</summary>
        public Lock State { get; } = new();

        public SocketEvents Allowed { get; set; } = events;

        public bool Disposed { get; private set; }

        /// <summary>RegisterHandler returned before the engine's Dispose began.</summary>
        public bool BeforeEngineDispose { get; set; }

        /// <summary>Registered during the chaos, seconds before the engine's Dispose.</summary>
        public bool DuringChaos { get; set; }

        public int Calls => Volatile.Read(ref _calls);

        public bool SawError { get; private set; }

        public void MarkDisposed()
        {
            lock (State)
            {
                Disposed = true;
            }
        }

        public void HandleEvents(ProactorSocket socket, SocketEvents events)
        {
            run.OnHandlerCall(this, socket, events);
            if ((events & SocketEvents.Error) != 0)
            {
                SawError = true;
            }
            int calls = Interlocked.Increment(ref _calls);
            if (calls >= budget && Registration is { } registration)
            {
                // From the handler itself: Dispose does not wait (this is the running call), and
                // no call starts after it returns.
                registration.Dispose();
                MarkDisposed();
                run.Forget(this);
            }
            else if (mayClose && _random.Next(HandlerClosesOneIn) == 0)
            {
                // A close from the loop thread, under the handler: the counter streams allow
                // closes at any point, as for a worker's.
                run.Close(Socket);
            }
        }

        public override string ToString() => $"{Name} ({Socket.GetHashCode():x8})";
    }
}
