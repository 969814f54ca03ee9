using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading;

namespace Proactor.Managed;

/// <summary>
/// The managed fallback backend: the I/O runs through <see cref="Socket"/>'s own asynchronous
/// calls (the runtime's epoll, kqueue or IOCP), and one loop thread of the engine delivers every
/// completion, so the contract is the one every backend keeps: dispatch per
/// <see cref="CompletionDispatch"/>, per-direction order, exactly-once, cancels and timeouts
/// ended by the engine. Platform-neutral: the default on an OS without a native backend.
/// </summary>
/// <remarks>
/// The price: each pending operation's completion crosses from the runtime's I/O thread to the
/// loop (one queue post, a wake-up when the loop sleeps) before its continuation runs, on top of
/// the runtime's own machinery. Operations that finish at once (data already there, room in the
/// send buffer) complete synchronously, without the loop.
/// </remarks>
internal sealed class ManagedEngine : ProactorEngine
{
    /// <summary>How long the loop, at shutdown, waits for the runtime to return the calls it aborted.</summary>
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(5);

    private readonly PostedWork _posted = new();
    private readonly ManagedLoopWaker _waker = new();
    private readonly Thread _thread;
    private readonly Lock _registrationLock = new();
    private readonly HashSet<ManagedSocket> _sockets = new();
    private bool _registrationsClosed;
    private volatile bool _stopping;
    private int _callsInFlight;

    public ManagedEngine(EngineOptions options)
        : base(options)
    {
        _thread = new Thread(Loop)
        {
            IsBackground = true,
            Name = options.ThreadName ?? $"proactor-{Name}",
        };
        _thread.UnsafeStart();
    }

    /// <summary>Creates the engine as <see cref="BackendKind.Default"/>'s choice on an OS without a
    /// native backend, saying so (the reason, the fallback metric, one warning).</summary>
    internal static ManagedEngine CreateAsFallback(EngineOptions options, string osDescription)
    {
        var engine = new ManagedEngine(options);
        engine.FallbackReason =
            $"no native backend for this OS ({osDescription}): io_uring and epoll need Linux, IOCP needs Windows; " +
            "the managed backend runs on System.Net.Sockets.";
        ProactorMetrics.RecordFallback(engine, from: "native", reason: "unsupported-os");
        engine.Warn("backend-fallback", $"Proactor: the engine runs on the managed backend: {engine.FallbackReason}");
        return engine;
    }

    public override BackendKind Backend => BackendKind.Managed;

    public override string Name => "managed";

    /// <summary>Registered sockets, for leak checks.</summary>
    internal int RegisteredSocketCount
    {
        get
        {
            lock (_registrationLock)
            {
                return _sockets.Count;
            }
        }
    }

    /// <summary>Runtime calls not yet returned to the loop.</summary>
    internal int CallsInFlight => Volatile.Read(ref _callsInFlight);

    internal void OnCallIssued() => Interlocked.Increment(ref _callsInFlight);

    internal void OnCallReturned() => Interlocked.Decrement(ref _callsInFlight);

    internal override EngineSocket Register(ProactorSocket owner, Socket socket)
    {
        var engineSocket = new ManagedSocket(this, socket);
        lock (_registrationLock)
        {
            ObjectDisposedException.ThrowIf(_registrationsClosed, this);
            _sockets.Add(engineSocket);
        }

        return engineSocket;
    }

    internal void Unregister(ManagedSocket socket)
    {
        lock (_registrationLock)
        {
            _sockets.Remove(socket);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the loop thread, soon: how the runtime's I/O threads, and
    /// threads that cancel or close, get a completion delivered by the engine.
    /// </summary>
    /// <remarks>Once the loop has exited, the poster runs the work itself (<see cref="PostedWork"/>).</remarks>
    internal void Post(Action<object?> action, object? state)
    {
        if (_posted.Post(action, state) && !IsEngineThread)
        {
            _waker.Wake(); // on the loop itself the iteration's end runs it, no wake needed
        }
    }

    internal override void WakeLoop() => _waker.Wake();

    private void Loop()
    {
        try
        {
            EnterEngineThread();
            while (!_stopping)
            {
                // The LoopWaker protocol: announce the sleep, then look once more for posted work,
                // a stop and the earliest deadline before blocking.
                _waker.PrepareToSleep();
                int timeout = _posted.IsEmpty && !_stopping ? Timers.GetWaitTimeoutMilliseconds() : 0;
                if (timeout != 0)
                {
                    _waker.Wait(timeout);
                }

                _waker.Awake();
                _waker.Reset();
                OnLoopIteration();
                Timers.RunDue();
                _posted.RunAll();
                FlushCompletions();
            }

            Shutdown();
            FlushCompletions();
        }
        catch (Exception e)
        {
            // A loop thread never dies quietly: report, then let the process fail.
            WriteStandardError($"Proactor: the {Name} loop thread failed: {e}");
            throw;
        }
    }

    private void Shutdown()
    {
        ManagedSocket[] sockets;
        lock (_registrationLock)
        {
            _registrationsClosed = true;
            sockets = [.. _sockets];
            _sockets.Clear();
        }

        foreach (ManagedSocket socket in sockets)
        {
            socket.Close();
        }

        // The runtime returns the calls it aborted on its own threads: deliver them from here
        // while they come, within a bound (a call never returned must not hold Dispose for good).
        long deadline = Stopwatch.GetTimestamp() + (long)(ShutdownGrace.TotalSeconds * Stopwatch.Frequency);
        while (CallsInFlight > 0 && Stopwatch.GetTimestamp() < deadline)
        {
            _waker.PrepareToSleep();
            if (_posted.IsEmpty)
            {
                _waker.Wait(50);
            }

            _waker.Awake();
            _waker.Reset();
            _posted.RunAll();
        }

        // Calls the runtime never returned (a stack that loses aborted calls): their operations
        // still complete once, aborted, from this thread.
        foreach (ManagedSocket socket in sockets)
        {
            socket.AbandonCallsInFlight();
        }

        _posted.CloseAndRunAll();
        _waker.Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        _stopping = true;
        _waker.Wake();
        JoinEngineThread(_thread);
    }
}
