using System;
using System.Threading;

namespace Proactor;

/// <summary>
/// The one wake-up of an engine's loop thread (as mio's <c>Waker</c> is beside its
/// <c>Selector</c>): other threads call <see cref="Wake"/> after publishing work; the loop
/// announces that it is about to block with <see cref="PrepareToSleep"/> and clears that with
/// <see cref="Awake"/> when its wait returns. Backends supply only the OS signal (an eventfd
/// write, a completion packet) in <see cref="Signal"/>.
/// </summary>
/// <remarks>
/// The protocol is Dekker's: a waker publishes its work, then (full fence) reads the sleeping
/// flag; the loop sets the flag (full fence), then looks for work once more before it blocks.
/// Either the loop sees the work, or the waker sees the flag and signals. Only the waker that
/// swaps the flag from 1 to 0 signals, so a burst of posts to a sleeping loop costs one signal,
/// and posts to a busy loop cost none. The signal itself carries no meaning: a stale one (sent
/// just as the loop woke for another reason) only makes one later wait return early.
///
/// The loop must look again, after <see cref="PrepareToSleep"/>, for everything a waker may have
/// published: posted work, an earlier deadline, a stop request, a changed descriptor set.
/// </remarks>
internal abstract class LoopWaker : IDisposable
{
    private int _sleeping;
    private long _signals;

    /// <summary>Signals sent so far (each woke a sleeping loop once).</summary>
    public long Signals => Interlocked.Read(ref _signals);

    /// <summary>Loop thread, before its last look for work and the blocking wait.</summary>
    public void PrepareToSleep() => Interlocked.Exchange(ref _sleeping, 1);

    /// <summary>Loop thread, when it will not block after all, or after its wait returned.</summary>
    public void Awake() => Volatile.Write(ref _sleeping, 0);

    /// <summary>Any thread, after publishing work for the loop: makes a sleeping loop's wait
    /// return. Never blocks; harmless after the engine stopped.</summary>
    public void Wake()
    {
        Interlocked.MemoryBarrier(); // the caller's published work is ordered before this read
        if (Volatile.Read(ref _sleeping) == 0 || Interlocked.Exchange(ref _sleeping, 0) == 0)
        {
            return;
        }

        if (Signal())
        {
            Interlocked.Increment(ref _signals);
        }
    }

    /// <summary>Sends the OS signal that ends the loop's wait. Returns false when the engine's
    /// handle is gone (nothing left to wake); must never write to a closed handle's number.</summary>
    protected abstract bool Signal();

    public abstract void Dispose();
}
