using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor;

public abstract partial class ProactorEngine
{
    /// <summary>
    /// Completes when the process receives <paramref name="signal"/>, delivered by this engine's loop
    /// (the continuation runs per <see cref="Dispatch"/>, from the engine's thread), so a server can
    /// stop gracefully from its own loop. While the wait is pending the signal's default action is
    /// cancelled (a SIGTERM does not end the process).
    /// </summary>
    /// <remarks>
    /// Built on <see cref="PosixSignalRegistration"/>, not <c>signalfd</c>: a signalfd sees a
    /// signal only if it is blocked in every thread, and the runtime's own threads (and those it
    /// creates later) keep it unblocked for its handling (SIGCHLD for <c>Process</c>, SIGCONT and
    /// SIGWINCH for the console, SIGINT/SIGTERM for hosting). The runtime's handler thread posts to
    /// this loop instead; every other registration for the signal still runs. On Windows the
    /// runtime maps SIGINT, SIGQUIT, SIGTERM and SIGHUP to console control events.
    /// </remarks>
    /// <param name="signal">The signal; on Unix a raw signal number cast to <see cref="PosixSignal"/> works too.</param>
    /// <param name="cancellationToken">Ends the wait early (completes as cancelled, on the engine's thread).</param>
    /// <returns>A task that completes with <paramref name="signal"/>.</returns>
    /// <exception cref="PlatformNotSupportedException">The OS cannot watch this signal.</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed (also the task's outcome if
    /// it is disposed while the wait is pending).</exception>
    public Task<PosixSignal> WaitForSignalAsync(PosixSignal signal, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<PosixSignal>(cancellationToken);
        }

        var wait = new SignalWait(this, signal, cancellationToken);
        wait.Start();
        return wait.Task;
    }

    /// <summary>
    /// Calls <paramref name="handler"/> on this engine's loop thread each time the process receives
    /// <paramref name="signal"/>, until the returned object is disposed. The signal's default action
    /// is cancelled meanwhile. See <see cref="WaitForSignalAsync"/> for why this is not a signalfd.
    /// </summary>
    /// <remarks>Signals raised faster than the runtime handles them may merge into one, as the OS
    /// merges pending signals; each one the runtime hands over is delivered exactly once. The
    /// handler runs on the loop: it must not block.</remarks>
    /// <param name="signal">The signal; on Unix a raw signal number cast to <see cref="PosixSignal"/> works too.</param>
    /// <param name="handler">Called on the engine's loop thread with the signal.</param>
    /// <returns>Dispose it to stop: after that returns, the handler is not called again (unless it is
    /// running on the loop at that moment and this is called from another thread).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is null.</exception>
    /// <exception cref="PlatformNotSupportedException">The OS cannot watch this signal.</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    public IDisposable RegisterSignalHandler(PosixSignal signal, Action<PosixSignal> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var watch = new SignalWatch(this, signal, handler);
        watch.Start();
        return watch;
    }

    /// <summary>A registered signal handler: the runtime's signal thread counts, the loop delivers.</summary>
    private sealed class SignalWatch : IDisposable
    {
        private readonly ProactorEngine _engine;
        private readonly PosixSignal _signal;
        private readonly Action<PosixSignal> _handler;
        private readonly TimerEntry _entry;
        private PosixSignalRegistration? _registration;
        private int _pending;
        private volatile bool _disposed;

        public SignalWatch(ProactorEngine engine, PosixSignal signal, Action<PosixSignal> handler)
        {
            _engine = engine;
            _signal = signal;
            _handler = handler;
            _entry = new TimerEntry(static s => ((SignalWatch)s!).Deliver(), this, static s => ((SignalWatch)s!).Dispose());
        }

        public void Start()
        {
            _registration = PosixSignalRegistration.Create(_signal, context =>
            {
                context.Cancel = true;
                if (_disposed)
                {
                    return;
                }

                Interlocked.Increment(ref _pending);
                _engine.ScheduleTimer(_entry, TimeSpan.Zero); // the loop runs it next turn
            });
            Park();
        }

        /// <summary>Keeps the entry in the engine's timers with a deadline that never comes, so the
        /// engine's Dispose finds it and ends the watch (an entry not scheduled is not seen).</summary>
        private void Park()
        {
            _engine.ScheduleTimer(_entry, TimeSpan.MaxValue);
            if (Volatile.Read(ref _pending) > 0)
            {
                _engine.ScheduleTimer(_entry, TimeSpan.Zero); // a signal arrived while parking: not lost
            }
        }

        /// <summary>Loop thread: one handler call per signal the runtime handed over.</summary>
        private void Deliver()
        {
            for (int n = Interlocked.Exchange(ref _pending, 0); n > 0 && !_disposed; n--)
            {
                _handler(_signal);
            }

            if (!_disposed)
            {
                Park();
            }
        }

        public void Dispose()
        {
            _disposed = true;
            _registration?.Dispose();
        }
    }

    /// <summary>A pending <see cref="WaitForSignalAsync"/>: completed by the loop, once.</summary>
    private sealed class SignalWait : TaskCompletionSource<PosixSignal>
    {
        private readonly ProactorEngine _engine;
        private readonly PosixSignal _signal;
        private readonly CancellationToken _token;
        private readonly TimerEntry _entry;
        private PosixSignalRegistration? _registration;
        private CancellationTokenRegistration _tokenRegistration;
        private int _raised;
        private int _finished;

        public SignalWait(ProactorEngine engine, PosixSignal signal, CancellationToken token)
            : base(engine.Dispatch == CompletionDispatch.Inline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously)
        {
            _engine = engine;
            _signal = signal;
            _token = token;
            _entry = new TimerEntry(static s => ((SignalWait)s!).Fire(), this, static s => ((SignalWait)s!).OnEngineDisposed());
        }

        public void Start()
        {
            _registration = PosixSignalRegistration.Create(_signal, context =>
            {
                context.Cancel = true;
                Volatile.Write(ref _raised, 1);
                _engine.ScheduleTimer(_entry, TimeSpan.Zero);
            });

            // The token only asks the loop, which completes the task: a cancelling thread never runs
            // the continuation (as for Delay).
            _tokenRegistration = _token.UnsafeRegister(static s =>
            {
                var wait = (SignalWait)s!;
                wait._engine.ScheduleTimer(wait._entry, TimeSpan.Zero);
            }, this);

            // Parked at a deadline that never comes (unless a signal or the token already moved it
            // to now), so the engine's Dispose finds the wait and ends it.
            if (Volatile.Read(ref _raised) == 0 && !_token.IsCancellationRequested)
            {
                _engine.ScheduleTimer(_entry, TimeSpan.MaxValue);
                if (Volatile.Read(ref _raised) != 0 || _token.IsCancellationRequested)
                {
                    _engine.ScheduleTimer(_entry, TimeSpan.Zero);
                }
            }
        }

        private void Fire()
        {
            if (Volatile.Read(ref _raised) != 0)
            {
                Finish(() => TrySetResult(_signal));
            }
            else if (_token.IsCancellationRequested)
            {
                Finish(() => TrySetCanceled(_token));
            }
        }

        private void OnEngineDisposed() =>
            Finish(() => TrySetException(new ObjectDisposedException(_engine.GetType().Name)));

        private void Finish(Action complete)
        {
            if (Interlocked.Exchange(ref _finished, 1) != 0)
            {
                return;
            }

            _registration?.Dispose();
            _tokenRegistration.Unregister(); // not Dispose: on the loop, never wait for a token callback's thread
            complete();
        }
    }
}
