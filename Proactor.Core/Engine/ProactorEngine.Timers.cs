using System;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor;

public abstract partial class ProactorEngine
{
    /// <summary>
    /// Completes after <paramref name="delay"/>, timed by the engine's own loop (its wait timeout),
    /// not by an OS timer per call. The continuation runs per <see cref="Dispatch"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    public Task Delay(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        var delayState = new EngineDelay(this, cancellationToken);
        ScheduleTimer(delayState.Entry, delay);
        return delayState.Task;
    }

    /// <summary>A pending <see cref="Delay"/>: a task source, its deadline and its token registration.</summary>
    private sealed class EngineDelay : TaskCompletionSource
    {
        private readonly CancellationTokenRegistration _registration;
        private readonly CancellationToken _token;

        public EngineDelay(ProactorEngine engine, CancellationToken token)
            : base(engine.Dispatch == CompletionDispatch.Inline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously)
        {
            _token = token;
            Entry = new TimerEntry(static s => ((EngineDelay)s!).Fire(), this);
            if (token.CanBeCanceled)
            {
                _registration = token.UnsafeRegister(static s => ((EngineDelay)s!).OnCanceled(), this);
            }
        }

        public TimerEntry Entry { get; }

        private void Fire()
        {
            _registration.Dispose();
            TrySetResult();
        }

        private void OnCanceled()
        {
            if (Entry.Cancel())
            {
                TrySetCanceled(_token);
            }
        }
    }
}
