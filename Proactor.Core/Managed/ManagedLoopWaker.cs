using System.Threading;

namespace Proactor.Managed;

/// <summary>
/// The managed engine's wake-up: an event the loop blocks on. Nothing OS-specific, so the managed
/// backend runs wherever .NET does.
/// </summary>
internal sealed class ManagedLoopWaker : LoopWaker
{
    // No spinning: an idle engine must use no CPU, and a wake-up is rare compared with the I/O it
    // announces (posts to a busy loop never signal, see LoopWaker).
    private readonly ManualResetEventSlim _event = new(initialState: false, spinCount: 0);
    private volatile bool _disposed;

    /// <summary>Loop thread: blocks until signalled or <paramref name="timeoutMilliseconds"/> (-1: no limit).</summary>
    public void Wait(int timeoutMilliseconds) => _event.Wait(timeoutMilliseconds);

    /// <summary>Loop thread, after <see cref="LoopWaker.Awake"/>: consumes the signal before the loop
    /// looks for work, so a signal sent after this look wakes the next wait.</summary>
    public void Reset() => _event.Reset();

    protected override bool Signal()
    {
        if (_disposed)
        {
            return false;
        }

        _event.Set();
        return true;
    }

    // The event holds no OS handle (its WaitHandle is never asked for), so a waker racing with
    // Dispose may still Set it harmlessly; it is not disposed for that reason.
    public override void Dispose() => _disposed = true;
}
