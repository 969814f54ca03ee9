using System;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// The emulated proactor: one loop thread waits on a readiness demultiplexer, performs the
/// non-blocking I/O of queued operations itself, and completes them. The user never sees
/// readiness. Generic over the demultiplexer struct, so the loop calls it directly.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class EmulatedEngine<TDemux> : ProactorEngine where TDemux : struct, IDemultiplexer
{
    private const ulong WakeKey = ulong.MaxValue;

    private readonly SocketTable<EmulatedSocket<TDemux>> _sockets = new();
    private readonly ConcurrentQueue<(Action<object?> Action, object? State)> _posted = new();
    private readonly SafeFileDescriptorHandle _wakeFd;
    private readonly Thread _thread;
    private readonly Lock _registrationLock = new();
    private TDemux _demux;
    private volatile bool _stopping;
    private int _wakePending;
    private bool _registrationsClosed;

    public EmulatedEngine(EngineOptions options, BackendKind backend, TDemux demux)
        : base(options)
    {
        Backend = backend;
        _demux = demux;
        try
        {
            _wakeFd = SafeFileDescriptorHandle.FromResult(
                Interop.Sys.EventFd(0, Interop.Sys.EFD_NONBLOCK | Interop.Sys.EFD_CLOEXEC), "eventfd");
            _demux.Register(_wakeFd.Fd, WakeKey, Interest.Read);
        }
        catch
        {
            _wakeFd?.Dispose();
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

    /// <summary>True when called on this engine's loop thread.</summary>
    internal bool IsLoopThread => Thread.CurrentThread == _thread;

    internal override EngineSocket Register(ProactorSocket owner, Socket socket)
    {
        var engineSocket = new EmulatedSocket<TDemux>(this, socket);
        lock (_registrationLock)
        {
            ObjectDisposedException.ThrowIf(_registrationsClosed, this);
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

    /// <summary>Runs <paramref name="action"/> on the loop thread, soon.</summary>
    internal void Post(Action<object?> action, object? state)
    {
        _posted.Enqueue((action, state));
        Wake();
    }

    internal override void WakeLoop() => Wake();

    private void Wake()
    {
        // One eventfd write per loop iteration is enough: the loop clears the flag before draining.
        if (Interlocked.Exchange(ref _wakePending, 1) != 0)
        {
            return;
        }

        ulong one = 1;
        Interop.Sys.Write(_wakeFd.Fd, &one, sizeof(ulong));
    }

    private void Loop()
    {
        try
        {
            EnterEngineThread();
            var events = new ReadyEvent[Options.MaxEventsPerWait];
            while (!_stopping)
            {
                // The wait lasts until the earliest deadline: the engine's timers cost no OS timer.
                int n = _demux.Wait(events, Timers.GetWaitTimeoutMilliseconds());
                for (int i = 0; i < n; i++)
                {
                    ref ReadyEvent ev = ref events[i];
                    if (ev.Key == WakeKey)
                    {
                        OnWake();
                        continue;
                    }

                    _sockets.Find(ev.Key)?.OnReadiness(ev.Readiness);
                }

                Timers.RunDue();
            }

            Shutdown();
        }
        catch (Exception e)
        {
            // A loop thread never dies quietly: report, then let the process fail.
            Console.Error.WriteLine($"Proactor: the {Name} loop thread failed: {e}");
            throw;
        }
    }

    private void OnWake()
    {
        Volatile.Write(ref _wakePending, 0);
        ulong value;
        Interop.Sys.Read(_wakeFd.Fd, &value, sizeof(ulong));
        while (_posted.TryDequeue(out var work))
        {
            work.Action(work.State);
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

        // Every pending operation completes once, aborted; then the descriptors close.
        foreach (EmulatedSocket<TDemux> socket in sockets)
        {
            socket.Close();
        }

        _demux.Dispose();
        _wakeFd.Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        _stopping = true;
        Wake();
        if (!IsLoopThread)
        {
            _thread.Join();
        }
    }
}
