using System;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor;

public abstract partial class ProactorEngine
{
    /// <summary>
    /// Completes after <paramref name="delay"/>, timed by the engine's own loop (its wait timeout),
    /// not by an OS timer per call. The continuation runs per <see cref="Dispatch"/>, on the
    /// engine's thread: also when <paramref name="cancellationToken"/> ends the delay early, the
    /// cancelling thread only asks the loop to end it.
    /// </summary>
    /// <remarks>
    /// A delay longer than the clock can represent never completes by itself (it does not
    /// overflow into the past). Disposing the engine ends a pending delay with
    /// <see cref="ObjectDisposedException"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    public Task Delay(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        var delayState = new EngineDelay(this, cancellationToken);
        delayState.Start(delay);
        return delayState.Task;
    }

    /// <summary>A pending <see cref="Delay"/>: a task source, its deadline and its token registration.</summary>
    /// <remarks>
    /// The token never completes the task itself: it marks the delay cancelled and moves its
    /// deadline to now, and the loop's firing completes it (as cancelled). So the continuation runs
    /// on the engine's thread, and firing and cancelling never wait for each other (an earlier
    /// design disposed the registration while firing, which waits for a running cancel callback,
    /// while the callback waited for the firing to end: a deadlock of the loop).
    /// </remarks>
    private sealed class EngineDelay : TaskCompletionSource
    {
        private readonly ProactorEngine _engine;
        private readonly CancellationToken _token;
        private readonly Lock _scheduleLock = new();
        private CancellationTokenRegistration _registration;
        private volatile bool _cancelRequested;

        public EngineDelay(ProactorEngine engine, CancellationToken token)
            : base(engine.Dispatch == CompletionDispatch.Inline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously)
        {
            _engine = engine;
            _token = token;
            Entry = new TimerEntry(static s => ((EngineDelay)s!).Fire(), this, static s => ((EngineDelay)s!).OnEngineDisposed());
        }

        public TimerEntry Entry { get; }

        public void Start(TimeSpan delay)
        {
            if (_token.CanBeCanceled)
            {
                // Registered before the deadline is scheduled, so the loop's firing always sees it.
                _registration = _token.UnsafeRegister(static s => ((EngineDelay)s!).OnCanceled(), this);
            }

            TimerScheduleResult result;
            lock (_scheduleLock)
            {
                // A cancel that ran meanwhile (even synchronously inside UnsafeRegister) has asked
                // for "now"; the lock keeps this schedule from replacing that request.
                result = _engine.ScheduleTimer(Entry, _cancelRequested ? TimeSpan.Zero : delay);
            }

            if (result == TimerScheduleResult.Closed)
            {
                OnEngineDisposed();
            }
        }

        private void Fire()
        {
            _registration.Unregister(); // never waits for a running cancel callback
            if (_cancelRequested)
            {
                TrySetCanceled(_token);
            }
            else
            {
                TrySetResult();
            }
        }

        private void OnCanceled()
        {
            lock (_scheduleLock)
            {
                _cancelRequested = true;
                if (_engine.ScheduleTimer(Entry, TimeSpan.Zero) == TimerScheduleResult.Closed)
                {
                    OnEngineDisposed();
                }
            }
        }

        private void OnEngineDisposed()
        {
            _registration.Unregister();
            TrySetException(new ObjectDisposedException(_engine.Name, $"The {_engine.Name} engine was disposed while the delay was pending."));
        }
    }
}
