using System;
using System.Diagnostics;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// The ring thread lets a small batch it has just queued run before it sleeps.
/// </summary>
/// <remarks>
/// <para>With <see cref="CompletionDispatch.ThreadPool"/>, the continuations of a batch start the
/// next operations (an echo's next receive), which only the ring thread can submit. If the ring
/// thread is asleep in <c>io_uring_enter</c> when the batch ends, the batch's end writes the
/// eventfd to wake it: two more context switches and an enter where the pool's worker shares the
/// ring thread's core. So after queuing a new worker for a batch of at most
/// <see cref="YieldToBatchLimit"/> operations, the ring thread yields the core once
/// (<c>sched_yield</c>) and then looks at its posted work again before it sleeps: the worker runs
/// the batch meanwhile, its posts find the ring thread awake and write nothing, and the ring thread
/// submits them with its next enter. A larger batch already spreads those costs over many
/// operations, and handing the core to it holds everything else back: at 1 000 connections
/// without the bound the server's CPU per message rose.</para>
/// <para>A yield hands the core to any runnable thread, not only the pool's. A yield serves when
/// the batch has run by its end, within <see cref="SlowYield"/> plus
/// <see cref="PerOperationOfSlowYield"/> per operation. One that does not (another process held the
/// core; the worker runs on another core, where the yield does nothing; a long batch) stops the
/// yielding for <see cref="ShortestYieldPause"/>, doubled by each further one up to
/// <see cref="LongestYieldPause"/>; one that serves resets that. With a process spinning on the
/// server's core, yielding to every batch cut the round trips at 8 connections from 33.6 k to 2.6 k
/// a second; a fixed pause of a second left the yielding paused most of the time on an idle
/// machine, whose own threads make a few yields a second slow.
/// <c>PROACTOR_IORING_YIELD_TO_BATCH=0</c> turns it off for a process, and <c>=N</c> sets the
/// bound.</para>
/// </remarks>
internal sealed partial class IoUringEngine
{
    /// <summary>The largest batch the ring thread yields to.</summary>
    internal static readonly int YieldToBatchLimit =
        int.TryParse(Environment.GetEnvironmentVariable("PROACTOR_IORING_YIELD_TO_BATCH"), out int limit) && limit >= 0 ? limit : 64;

    /// <summary>A yield that takes longer than this (plus <see cref="PerOperationOfSlowYield"/> per
    /// operation of the batch) gave the core to something else than a small batch.</summary>
    internal static readonly TimeSpan SlowYield = TimeSpan.FromMilliseconds(1);

    /// <summary>What each operation of the batch adds to <see cref="SlowYield"/>.</summary>
    internal static readonly TimeSpan PerOperationOfSlowYield = TimeSpan.FromMilliseconds(0.01);

    /// <summary>How long the ring thread stops yielding after a yield that did not serve, when the
    /// one before it did; each further one doubles it, up to <see cref="LongestYieldPause"/>.</summary>
    internal static readonly TimeSpan ShortestYieldPause = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest pause: with another process holding the core for good, one yield
    /// (one of its time slices) per pause.</summary>
    internal static readonly TimeSpan LongestYieldPause = TimeSpan.FromSeconds(1);

    private long _yieldPausedUntil; // ring thread only (Stopwatch ticks)
    private TimeSpan _yieldPause = ShortestYieldPause; // ring thread only
    private long _batchYields;
    private long _slowBatchYields;

    /// <summary>Times the ring thread yielded to a batch (tests and the bench).</summary>
    internal long BatchYields => Interlocked.Read(ref _batchYields);

    /// <summary>Yields that did not serve (the batch had not run, or not within
    /// <see cref="SlowYield"/>) and paused the yielding.</summary>
    internal long SlowBatchYields => Interlocked.Read(ref _slowBatchYields);

    /// <summary>Tests: whether the yielding is paused now (read from another thread).</summary>
    internal bool YieldingPaused => Volatile.Read(ref _yieldPausedUntil) > Stopwatch.GetTimestamp();

    /// <summary>Tests: every yield to a batch takes at least this long, as if another thread
    /// held the core.</summary>
    internal int SlowYieldForTestsMicroseconds { get; set; }

    /// <summary>Ring thread, after its flush queued a new worker.</summary>
    private bool ShouldYieldToBatch() =>
        CompletionBatch.LastFlushCount <= YieldToBatchLimit &&
        _yieldPausedUntil <= Stopwatch.GetTimestamp();

    private void YieldToBatch()
    {
        long start = Stopwatch.GetTimestamp();
        Thread.Yield();
        if (SlowYieldForTestsMicroseconds > 0)
        {
            SpinFor(SlowYieldForTestsMicroseconds); // tests: this yield took long
        }

        long end = Stopwatch.GetTimestamp();

        // It served when the batch ran meanwhile, and soon: otherwise another thread had the core
        // (or the worker runs on another core, where the yield does nothing).
        bool served = !CompletionBatch.HasWorkers &&
            Stopwatch.GetElapsedTime(start, end) <= SlowYield + (PerOperationOfSlowYield * CompletionBatch.LastFlushCount);
        if (!served)
        {
            _yieldPausedUntil = end + (long)(_yieldPause.TotalSeconds * Stopwatch.Frequency);
            _yieldPause = TimeSpan.FromTicks(Math.Min(_yieldPause.Ticks * 2, LongestYieldPause.Ticks));
            Interlocked.Increment(ref _slowBatchYields);
        }
        else
        {
            _yieldPause = ShortestYieldPause;
        }

        // After the slow count: a reader that sees this yield also sees whether it served.
        Interlocked.Increment(ref _batchYields);
    }
}
