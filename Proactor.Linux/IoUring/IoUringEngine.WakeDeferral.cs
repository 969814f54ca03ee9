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
/// whose SQE only the ring thread can submit. So the deferral is bounded: while a batch runs, or
/// a deferred post may still be waiting in the command stacks, the ring thread sleeps at most
/// <see cref="DeferredWakeBoundMilliseconds"/> before it looks at them again. The two sides meet
/// Dekker-style: a poster marks a deferral outstanding (a full fence) before it reads
/// <see cref="_ringSleepsUnbounded"/>; the ring thread writes that flag (a full fence) before it
/// reads the mark. Either the ring thread sees the mark and bounds its sleep, or the poster sees a
/// sleep without bound and wakes it at once, as outside a batch. The ring thread clears the mark
/// before it drains the stacks, so a mark it clears belongs to a post that drain takes.</para>
/// <para>While a batch runs the ring thread bounds its sleep before anything was posted, so that
/// the batch's posts may defer. A batch may also run for long without posting (a stream echoed by
/// one loop whose receives and sends complete at once keeps its batch running for good): once a
/// bounded sleep has run out with nothing done, the ring thread sleeps without the bound until
/// something wakes it (a completion, or a post, which then wakes it at once), instead of waking
/// every millisecond. An outstanding deferral always bounds the sleep.</para>
/// </remarks>
internal sealed unsafe partial class IoUringEngine
{
    /// <summary>How long a post from a running batch may wait for the ring thread at worst (a
    /// continuation that blocks before its batch ends).</summary>
    internal const int DeferredWakeBoundMilliseconds = 1;

    /// <summary>1 while the ring thread sleeps (or is about to) without the bound.</summary>
    private int _ringSleepsUnbounded;

    /// <summary>1 after a post deferred its wake, until the ring thread's next drain of the
    /// command stacks.</summary>
    private int _deferralOutstanding;

    /// <summary>Ring thread only: its last sleep was bounded for a running batch and ran out with
    /// nothing reaped or posted.</summary>
    private bool _boundRanOutIdle;

    /// <summary>Ring thread only: its last sleep was bounded for a running batch.</summary>
    private bool _sleptBounded;

    /// <summary>Ring thread only: the completions reaped by the end of its last iteration.</summary>
    private long _reapedBefore;

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
        if (!DeferWakesInBatches || !CompletionBatch.IsDeliveringFor(this))
        {
            return false;
        }

        // Marked before the flag is read (a full fence): a ring thread that announced an unbounded
        // sleep before this mark was written is seen here and woken at once.
        Interlocked.Exchange(ref _deferralOutstanding, 1);
        if (Volatile.Read(ref _ringSleepsUnbounded) != 0)
        {
            return false;
        }

        CompletionBatch.OweWake();
        Interlocked.Increment(ref _deferredWakes);
        return true;
    }

    /// <summary>Ring thread, before it drains the command stacks: what a deferral marked is taken
    /// by that drain (the mark follows its push).</summary>
    private void ClearDeferralMark() => Interlocked.Exchange(ref _deferralOutstanding, 0);

    /// <summary>Ring thread, after it announced its sleep: the timeout of its wait, bounded while a
    /// deferred post may be waiting for it.</summary>
    private int BoundSleepForBatches(int timeoutMilliseconds)
    {
        Interlocked.Exchange(ref _ringSleepsUnbounded, 1);
        bool bound = Volatile.Read(ref _deferralOutstanding) != 0 || (CompletionBatch.HasWorkers && !_boundRanOutIdle);
        _sleptBounded = bound && timeoutMilliseconds != 0;
        if (!_sleptBounded)
        {
            return timeoutMilliseconds;
        }

        Volatile.Write(ref _ringSleepsUnbounded, 0);
        return timeoutMilliseconds is < 0 or > DeferredWakeBoundMilliseconds ? DeferredWakeBoundMilliseconds : timeoutMilliseconds;
    }

    /// <summary>Ring thread, when its wait returned.</summary>
    private void OnRingAwake() => Volatile.Write(ref _ringSleepsUnbounded, 0);

    /// <summary>Ring thread, after it reaped what its wait brought: whether a bounded sleep ran
    /// out with nothing to do (then the next one, for the same batch, need not be bounded).</summary>
    private void AfterBoundedSleep()
    {
        // Reaped since the last iteration: by this wait, or by a drain that found the SQ full.
        bool reaped = _cqesReaped != _reapedBefore;
        if (_sleptBounded)
        {
            _boundRanOutIdle = !reaped && !HasPostedCommands;
            _sleptBounded = false;
        }
        else if (reaped)
        {
            _boundRanOutIdle = false; // something happened: a new batch may follow
        }

        _reapedBefore = _cqesReaped;
    }
}
