using System;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// One eventfd wake per batch of continuations instead of one per operation they start.
/// </summary>
/// <remarks>
/// <para>With <see cref="CompletionDispatch.ThreadPool"/> a pool thread runs a batch of
/// continuations (<see cref="CompletionBatch"/>); each typically starts the next receive, which is
/// posted to the ring thread. The ring thread sleeps in io_uring_enter meanwhile, so each post
/// would write the eventfd and wake it for one SQE. Inside a batch the posts only mark a wake as
/// owed; the batch's end pays it once (<see cref="LoopWaker.Wake"/>: no write at all if the ring
/// thread is awake by then).</para>
/// <para>A continuation may block, even on an operation of this engine that it posted itself,
/// whose SQE only the ring thread can submit. So the deferral is bounded: while any batch runs,
/// the ring thread sleeps at most <see cref="DeferredWakeBoundMilliseconds"/> before it looks at
/// its posted commands again. The two sides meet Dekker-style: the ring thread writes
/// <see cref="_ringSleepsUnbounded"/> (then a full fence) before it reads
/// <see cref="CompletionBatch.HasWorkers"/>; a worker is counted (a full fence) before it is
/// queued, so before any post from it reads the flag. The ring thread hands its completions to the
/// pool before it decides how long to sleep, so the worker it just queued already counts. Either the ring thread sees the batch and bounds its sleep, or the post sees
/// a sleep without bound and wakes it at once, as outside a batch.</para>
/// </remarks>
internal sealed unsafe partial class IoUringEngine
{
    /// <summary>How long a post from a running batch may wait for the ring thread at worst (a
    /// continuation that blocks before its batch ends).</summary>
    internal const int DeferredWakeBoundMilliseconds = 1;

    /// <summary>1 while the ring thread may sleep without the bound (it saw no batch running).</summary>
    private int _ringSleepsUnbounded;

    private long _deferredWakes;

    /// <summary>Posts from a batch whose wake was deferred (for tests and the bench).</summary>
    internal long DeferredWakes => Interlocked.Read(ref _deferredWakes);

    /// <summary>Tests: turns the deferral off (every post from a batch wakes the ring thread at once).</summary>
    internal bool DeferWakesInBatches { get; set; } = true;

    internal override void OnBatchDelivered() => _waker.Wake();

    /// <summary>A post from a pool thread (after its push, a full fence): true when its wake may
    /// wait for the end of the batch this thread is running.</summary>
    private bool TryDeferWake()
    {
        if (!DeferWakesInBatches || !CompletionBatch.IsDeliveringFor(this) || Volatile.Read(ref _ringSleepsUnbounded) != 0)
        {
            return false;
        }

        CompletionBatch.OweWake();
        Interlocked.Increment(ref _deferredWakes);
        return true;
    }

    /// <summary>Ring thread, after it announced its sleep: the timeout of its wait, bounded while a
    /// batch may hold a deferred wake.</summary>
    private int BoundSleepForBatches(int timeoutMilliseconds)
    {
        Interlocked.Exchange(ref _ringSleepsUnbounded, 1);
        if (!CompletionBatch.HasWorkers)
        {
            return timeoutMilliseconds;
        }

        Volatile.Write(ref _ringSleepsUnbounded, 0);
        return timeoutMilliseconds is < 0 or > DeferredWakeBoundMilliseconds ? DeferredWakeBoundMilliseconds : timeoutMilliseconds;
    }

    /// <summary>Ring thread, when its wait returned.</summary>
    private void OnRingAwake() => Volatile.Write(ref _ringSleepsUnbounded, 0);
}
