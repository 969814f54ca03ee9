using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// The emulated proactor: one loop thread waits on a readiness demultiplexer, performs the
/// non-blocking I/O of queued operations itself, and completes them. The user never sees
/// readiness. Generic over the demultiplexer struct, so the loop calls it directly.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class EmulatedEngine<TDemux> : ProactorEngine where TDemux : struct, IDemultiplexer
{
    private readonly SocketTable<EmulatedSocket<TDemux>> _sockets = new();
    private readonly PostedWork _posted = new();
    private readonly EventFdWaker _waker;
    private readonly Thread _thread;
    private readonly Lock _registrationLock = new();
    private TDemux _demux;
    private volatile bool _stopping;
    private bool _registrationsClosed;

    public EmulatedEngine(EngineOptions options, BackendKind backend, TDemux demux)
        : base(options)
    {
        Backend = backend;
        _demux = demux;
        try
        {
            _waker = new EventFdWaker();
            _demux.AttachWaker(_waker);
        }
        catch
        {
            _waker?.Dispose();
            _demux.Dispose();
            throw;
        }

        Name = _demux.Name;
        _thread = new Thread(Loop)
        {
            IsBackground = true,
            Name = options.ThreadName ?? $"proactor-{Name}",
        };
        _thread.UnsafeStart();
    }

    public override BackendKind Backend { get; }

    public override string Name { get; }

    /// <summary>The demultiplexer, by reference (it is a mutable struct).</summary>
    internal ref TDemux Demux => ref _demux;

    /// <summary>Registered sockets, for leak checks.</summary>
    internal int RegisteredSocketCount => _sockets.Count;

    /// <summary>The waker's eventfd number, for tests.</summary>
    internal int WakeDescriptor => _waker.Fd;

    /// <summary>eventfd writes that woke the loop, for tests and diagnostics.</summary>
    internal long WakeWrites => _waker.Signals;

    /// <summary>Receives the loop left for the next readiness report without a syscall, because a
    /// receive since the last report proved the socket empty (loop thread writes; tests read).</summary>
    internal long SparedReceives;

    /// <summary>True when called on this engine's loop thread.</summary>
    internal bool IsLoopThread => Thread.CurrentThread == _thread;

    internal override EngineSocket Register(ProactorSocket owner, Socket socket) =>
        Add(new EmulatedSocket<TDemux>(this, socket));

    internal override EngineSocket RegisterAccepted(ProactorSocket owner, SafeHandle descriptor, AddressFamily addressFamily) =>
        Add(new EmulatedSocket<TDemux>(this, descriptor, addressFamily));

    private EmulatedSocket<TDemux> Add(EmulatedSocket<TDemux> engineSocket)
    {
        lock (_registrationLock)
        {
            if (_registrationsClosed)
            {
                ThrowDisposed();
            }
            engineSocket.Key = _sockets.Add(engineSocket);
            try
            {
                _demux.Register(engineSocket.Fd, engineSocket.Key, Interest.None);
            }
            catch
            {
                _sockets.Remove(engineSocket.Key);
                throw;
            }
        }

        return engineSocket;
    }

    internal void Unregister(EmulatedSocket<TDemux> socket)
    {
        lock (_registrationLock)
        {
            if (_registrationsClosed)
            {
                return; // the demultiplexer is gone with the engine
            }

            socket.UnregisterFrom(ref _demux);
            _sockets.Remove(socket.Key);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the loop thread, soon: the one way another thread gets
    /// something done by the engine. Cancels and closes complete their operations through it, so a
    /// continuation never runs on the thread that cancelled.
    /// </summary>
    /// <remarks>Once the loop has exited, the poster runs the work itself (<see cref="PostedWork"/>).</remarks>
    internal void Post(Action<object?> action, object? state)
    {
        if (_posted.Post(action, state) && !IsLoopThread)
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
            var events = new ReadyEvent[Options.MaxEventsPerWait];
            while (!_stopping)
            {
                // Announce the sleep, then look once more for what a waker may have published
                // (see LoopWaker): posted work, a stop, and the earliest deadline, which bounds the
                // wait (the engine's timers cost no OS timer). Changes of a poll/select set are
                // looked at inside Wait, after this announcement too.
                _waker.PrepareToSleep();
                int timeout = _posted.IsEmpty && !_stopping ? Timers.GetWaitTimeoutMilliseconds() : 0;
                if (timeout == 0)
                {
                    _waker.Awake();
                }

                int n = _demux.Wait(events, timeout);
                _waker.Awake();
                for (int i = 0; i < n; i++)
                {
                    ref ReadyEvent ev = ref events[i];
                    if (ev.Key == IDemultiplexer.WakeKey)
                    {
                        _waker.Drain();
                        continue;
                    }

                    _sockets.Find(ev.Key)?.OnReadiness(ev.Readiness);
                }

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
        EmulatedSocket<TDemux>[] sockets;
        lock (_registrationLock)
        {
            _registrationsClosed = true;
            sockets = _sockets.Drain();
        }

        // Every pending operation completes once, aborted (posted to this loop, run below); then
        // the descriptors close.
        foreach (EmulatedSocket<TDemux> socket in sockets)
        {
            socket.Close();
        }

        _posted.CloseAndRunAll();
        _demux.Dispose();
        _waker.Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        _stopping = true;
        _waker.Wake();
        JoinEngineThread(_thread);
    }
}
