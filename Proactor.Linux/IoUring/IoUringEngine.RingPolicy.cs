using System;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// The ring thread does not preempt a pool thread that runs a batch of its continuations.
/// </summary>
/// <remarks>
/// <para>With <see cref="CompletionDispatch.ThreadPool"/>, on a core shared by the ring thread
/// and the pool thread running a batch, every completion that arrives during the batch wakes the
/// sleeping ring thread, and the scheduler lets a freshly woken thread preempt the running one:
/// two context switches to reap a completion or two and queue them as a batch of their own, then
/// the rest of the first batch, then the same again. While a batch runs, the ring thread
/// therefore sleeps as <c>SCHED_BATCH</c>, whose wake-ups do not preempt: what arrives meanwhile
/// waits until the batch is done, and the ring thread reaps it in one turn. The pool thread that
/// finishes the batch makes the ring thread an ordinary thread again at once, so a completion
/// that arrives outside batches (the pool's worker spinning before it sleeps, or an unrelated
/// thread holding the core) is taken as soon as it comes, as before.</para>
/// <para>Not while a batch keeps running without needing the ring thread (a bounded sleep ran
/// out idle: a stream echoed by a loop whose receives and sends complete at once), since a
/// completion may be what lets that batch go on.</para>
/// <para><see cref="_ringYielding"/> meets both sides Dekker-style: the ring thread sets it (a
/// full fence) before it changes its policy and then looks again whether a batch still runs and
/// whether a pool thread took the flag meanwhile, and changes back if not; a pool thread takes
/// the flag after the worker count went down. Each change is one <c>sched_setscheduler</c>, at
/// most two per batch. <c>PROACTOR_IORING_RING_YIELDS=0</c> turns it off for a process (to
/// compare); a refused change (a seccomp filter) turns it off for the engine.</para>
/// </remarks>
internal sealed unsafe partial class IoUringEngine
{
    private const int NotYielding = 0;
    private const int Yielding = 1;
    private const int RingExited = 2;

    private static readonly bool s_ringYields =
        Environment.GetEnvironmentVariable("PROACTOR_IORING_RING_YIELDS") != "0";

    /// <summary>The ring thread's kernel thread id (set when it starts).</summary>
    private int _ringTid;

    /// <summary>The ring thread's kernel thread id (tests read its scheduling policy).</summary>
    internal int RingThreadId => Volatile.Read(ref _ringTid);

    /// <summary><see cref="Yielding"/> while the ring thread runs as SCHED_BATCH (or is about to).</summary>
    private int _ringYielding;

    /// <summary>Ring thread only: false once the OS refused a change (never tried again).</summary>
    private bool _ringPolicyWorks = s_ringYields;

    private long _ringPolicyChanges;


    /// <summary>Changes of the ring thread's scheduling policy so far (for tests and the bench).</summary>
    internal long RingPolicyChanges => Interlocked.Read(ref _ringPolicyChanges);

    /// <summary>Tests: the ring thread spins this long between seeing a batch run and marking
    /// itself yielding, so that batches end inside that window.</summary>
    internal int YieldDecisionDelayMicroseconds { get; set; }

    /// <summary>Ring thread, at start. libc has gettid only since glibc 2.30 (musl 1.2.2); without
    /// it the ring thread simply never changes its policy.</summary>
    private void NoteRingThread()
    {
        try
        {
            Volatile.Write(ref _ringTid, Interop.Sys.GetTid());
        }
        catch (EntryPointNotFoundException)
        {
            _ringPolicyWorks = false;
        }
    }

    /// <summary>Ring thread, before it sleeps: yielding while a batch of its continuations runs.</summary>
    private void SetRingPolicyForSleep()
    {
        if (!_ringPolicyWorks || Volatile.Read(ref _ringYielding) == Yielding)
        {
            return;
        }

        if (!CompletionBatch.HasWorkers || _boundRanOutIdle)
        {
            return;
        }

        if (YieldDecisionDelayMicroseconds > 0)
        {
            SpinFor(YieldDecisionDelayMicroseconds); // tests: the batch may end right here
        }

        Interlocked.Exchange(ref _ringYielding, Yielding);
        if (!SetPolicy(0, Interop.Sys.SCHED_BATCH))
        {
            _ringPolicyWorks = false; // e.g. a seccomp filter: the ring thread stays as it was
            Interlocked.Exchange(ref _ringYielding, NotYielding);
            return;
        }

        // The batch may have ended meanwhile, and its pool thread may have taken the flag before
        // this change was made: then nobody else changes it back.
        if (!CompletionBatch.HasWorkers || Volatile.Read(ref _ringYielding) != Yielding)
        {
            Interlocked.Exchange(ref _ringYielding, NotYielding);
            SetPolicy(0, Interop.Sys.SCHED_OTHER);
        }
    }

    /// <summary>Ring thread, when its loop ends: an ordinary thread again, and no pool thread
    /// touches its (soon reusable) thread id any more.</summary>
    private void EndRingPolicy()
    {
        if (Interlocked.Exchange(ref _ringYielding, RingExited) == Yielding)
        {
            SetPolicy(0, Interop.Sys.SCHED_OTHER);
        }
    }

    internal override void OnBatchWorkerDone()
    {
        // After the worker count went down (a full fence). The ring thread is alive while the
        // flag says Yielding (it sets RingExited before it ends).
        if (Volatile.Read(ref _ringYielding) == Yielding &&
            Interlocked.CompareExchange(ref _ringYielding, NotYielding, Yielding) == Yielding)
        {
            SetPolicy(_ringTid, Interop.Sys.SCHED_OTHER);
        }
    }

    private static void SpinFor(int microseconds)
    {
        long end = System.Diagnostics.Stopwatch.GetTimestamp() + (microseconds * System.Diagnostics.Stopwatch.Frequency / 1_000_000);
        while (System.Diagnostics.Stopwatch.GetTimestamp() < end)
        {
            Thread.SpinWait(10);
        }
    }

    private bool SetPolicy(int tid, int policy)
    {
        Interop.Sys.SchedParam param = default;
        if (Interop.Sys.SchedSetScheduler(tid, policy, &param) != 0)
        {
            return false;
        }

        Interlocked.Increment(ref _ringPolicyChanges);
        return true;
    }
}
