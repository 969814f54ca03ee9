using System;
using System.Net.Sockets;
using System.Threading;

namespace Proactor;

/// <summary>
/// A socket registered with its engine's Reactor (<see cref="ProactorSocket.RegisterHandler"/>): the
/// Initiation Dispatcher's record of which <see cref="IReactorHandler"/> hears of which events.
/// Change the events with <see cref="ChangeEvents"/>; dispose it to deregister.
/// </summary>
/// <remarks>
/// <para>Each direction the handler wants is one wait operation of the socket's backend (a poll
/// operation queued with the direction's other operations). When it completes, the loop calls the
/// handler and arms the direction again, this time for the demultiplexer's <em>next</em> report: so
/// the edge- or level-triggered nature of the demultiplexer is what the handler sees, and a
/// handler that does not drain never spins the loop.</para>
/// <para>Every change of the waits (arm, cancel) happens on the loop thread; other threads only
/// record what they want and ask the loop (through a zero-delay entry of the engine's timers, which
/// every backend runs on its loop). <see cref="Dispose"/>, <see cref="ChangeEvents"/> and the
/// socket's close wait for a call of the handler running on another thread: when they return, no
/// call for the removed events runs or will start. A handler must therefore not wait for a thread
/// that is disposing its registration. The one exception is a caller that is itself an engine's
/// thread (another loop's handler closing this socket, say): it does not wait, since two loops
/// closing each other's sockets from their handlers would wait for each other for good; no new
/// call starts after it returns, but the running one may still be finishing.</para>
/// </remarks>
public sealed class ReactorRegistration : IDisposable
{
    private readonly ProactorSocket _socket;
    private readonly IReactorHandler _handler;
    // Guards _active, changes of _events and _handlerThread; a Monitor (not a Lock) because
    // deregistering waits on it for a running call to return.
    private readonly object _gate = new();
    private readonly Side _read;
    private readonly Side _write;
    private readonly TimerEntry _reconcileEntry;
    private volatile SocketEvents _events;
    private volatile bool _active = true;
    private bool _dispatching; // loop thread only
    private Thread? _handlerThread; // under _gate: the loop thread while it runs the handler
    private int _waiters; // under _gate: threads waiting for the running call

    internal ReactorRegistration(ProactorSocket socket, IReactorHandler handler, SocketEvents events)
    {
        _socket = socket;
        _handler = handler;
        _events = events;
        _read = new Side(this, SocketEvents.Readable);
        _write = new Side(this, SocketEvents.Writable);
        _reconcileEntry = new TimerEntry(static s => ((ReactorRegistration)s!).Reconcile(), this);
    }

    /// <summary>The socket this registration watches.</summary>
    public ProactorSocket Socket => _socket;

    /// <summary>The events the handler hears of now (as last set).</summary>
    public SocketEvents Events => _events;

    /// <summary>False once disposed, once the socket was closed, or once the engine's disposal
    /// closed it: the handler is not called again.</summary>
    public bool IsActive => _active;

    /// <summary>
    /// Changes the events the handler hears of (e.g. add <see cref="SocketEvents.Writable"/> when a
    /// <see cref="ProactorSocket.TrySend"/> would block, remove it once the backlog is out). After it
    /// returns, the handler is not called for a removed direction; an added one is looked at at once
    /// (a socket already ready is reported on the loop's next turn).
    /// </summary>
    /// <param name="events">Readable, Writable or both, as for <see cref="ProactorSocket.RegisterHandler"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="events"/> names no direction.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="events"/> has undefined bits.</exception>
    /// <exception cref="ObjectDisposedException">The registration was disposed or its socket closed.</exception>
    public void ChangeEvents(SocketEvents events)
    {
        ProactorSocket.ValidateEvents(events, nameof(events));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(!_active, this);
            _events = events;
            WaitForRunningCall();
        }

        RequestReconcile();
    }

    /// <summary>
    /// Deregisters: when it returns, the handler is not running (unless this is called from the
    /// handler itself) and will not be called again. Idempotent; closing the socket does the same.
    /// </summary>
    public void Dispose()
    {
        bool wasActive;
        lock (_gate)
        {
            wasActive = _active;
            _active = false;
            WaitForRunningCall();
        }

        if (!wasActive)
        {
            return;
        }

        _socket.OnReactorDeregistered(this);
        RequestReconcile(); // the loop cancels the waits still armed
    }

    /// <summary>The socket is closing: its close aborts the waits; no call starts after this.</summary>
    internal void OnSocketClosing()
    {
        lock (_gate)
        {
            _active = false;
            WaitForRunningCall();
        }
    }

    /// <summary>
    /// Under <see cref="_gate"/>: waits until a call of the handler running on another thread has
    /// returned. Not on an engine's thread: this registration's own loop never runs the handler
    /// beside its caller, and another loop could be waiting here for this caller's loop in turn.
    /// </summary>
    private void WaitForRunningCall()
    {
        if (ProactorEngine.IsOnAnyEngineThread)
        {
            return;
        }

        while (_handlerThread is not null)
        {
            _waiters++;
            try
            {
                Monitor.Wait(_gate);
            }
            finally
            {
                _waiters--;
            }
        }
    }

    /// <summary>Loop thread: calls the handler unless <paramref name="direction"/> is no longer
    /// wanted (or the registration ended). Returns whether it was called.</summary>
    private bool Dispatch(SocketEvents direction, SocketEvents events)
    {
        lock (_gate)
        {
            if (!_active || (_events & direction) == 0 || _socket.IsDisposed)
            {
                return false;
            }

            _handlerThread = Thread.CurrentThread;
        }

        _dispatching = true;
        try
        {
            _handler.HandleEvents(_socket, events);
        }
        finally
        {
            _dispatching = false;
            lock (_gate)
            {
                _handlerThread = null;
                if (_waiters > 0)
                {
                    Monitor.PulseAll(_gate);
                }
            }
        }

        return true;
    }

    /// <summary>Arms the first waits, on the loop.</summary>
    internal void Start() => RequestReconcile();

    private void RequestReconcile()
    {
        if (_socket.Engine.IsEngineThread)
        {
            Reconcile();
            return;
        }

        // A closed timer queue means the engine is gone, and its shutdown aborted the waits: the
        // registration ends as with a close (one made just as the engine went would never hear anything).
        if (_socket.Engine.ScheduleTimer(_reconcileEntry, TimeSpan.Zero) == TimerScheduleResult.Closed)
        {
            OnSocketClosing();
        }
    }

    /// <summary>Loop thread: makes the armed waits match what is wanted.</summary>
    private void Reconcile()
    {
        if (_dispatching)
        {
            return; // the dispatch reconciles when the handler returns
        }

        if (_socket.Engine.IsDisposed && !_read.Armed && !_write.Armed)
        {
            // The engine went while nothing was armed (a wait had just finished and was being
            // dispatched): no aborted wait will come to end the registration, so end it here.
            OnSocketClosing();
            return;
        }

        _read.Reconcile();
        _write.Reconcile();
    }

    /// <summary>Loop thread: a direction's wait finished (synchronously at arming, or completed).</summary>
    private void OnWaitFinished(Side side, Operation op)
    {
        side.Armed = false;
        side.CancelRequested = false;
        SocketError error = op.Error;
        if (error == SocketError.Success)
        {
            var ready = (SocketEvents)op.BytesTransferred;
            side.LevelNext = false; // re-armed for the next report: the demultiplexer's edge or level decides
            if (!Dispatch(side.Direction, ready & (side.Direction | SocketEvents.HangUp | SocketEvents.Error)))
            {
                side.LevelNext = true; // unwanted now: a later re-add must look at once
            }
        }
        else
        {
            // Aborted (cancelled, closed) or failed to wait at all: a re-add looks at once.
            side.LevelNext = true;
            if (_socket.Engine.IsDisposed)
            {
                // The engine's shutdown closed the socket under its registration (the socket
                // object itself is not disposed): as a close does, this ends the registration.
                // Re-arming would be refused at once, aborted again, and recurse without end.
                OnSocketClosing();
                return;
            }

            if (error != SocketError.OperationAborted)
            {
                side.Failed = true; // a wait the OS refuses would be refused again: stop, say Error once
                Dispatch(SocketEvents.Readable | SocketEvents.Writable, side.Direction | SocketEvents.Error);
            }
        }

        Reconcile();
    }

    /// <summary>One direction's wait. Touched only on the loop thread.</summary>
    private sealed class Side
    {
        private readonly ReactorRegistration _owner;
        private readonly Operation _op;

        public Side(ReactorRegistration owner, SocketEvents direction)
        {
            _owner = owner;
            Direction = direction;
            _op = owner._socket.EngineSocket.CreateOperation();
            _op.ReadinessCallback = op => _owner.OnWaitFinished(this, op);
        }

        public SocketEvents Direction { get; }

        public bool Armed;
        public bool CancelRequested;
        public bool Failed;

        /// <summary>True when the next arm must look at the socket now (first arm, re-add).</summary>
        public bool LevelNext = true;

        public void Reconcile()
        {
            ReactorRegistration o = _owner;
            bool wanted = o._active && !o._socket.IsDisposed && !o._socket.Engine.IsDisposed && !Failed && (o._events & Direction) != 0;
            if (wanted && !Armed)
            {
                Arm();
            }
            else if (!wanted && Armed && !CancelRequested)
            {
                CancelRequested = true;
                o._socket.EngineSocket.Cancel(_op); // its completion (aborted) arrives on the loop
            }
        }

        private void Arm()
        {
            ProactorSocket socket = _owner._socket;
            _op.Prepare(OperationKind.Poll, socket, default, null, null, null);
            _op.RequestedEvents = Direction | SocketEvents.HangUp | SocketEvents.Error;
            _op.WaitForNextReport = !LevelNext;
            Armed = true;
            if (!socket.EngineSocket.Start(_op))
            {
                _owner.OnWaitFinished(this, _op); // ready at once (or refused): dispatch here, on the loop
            }
        }
    }
}
