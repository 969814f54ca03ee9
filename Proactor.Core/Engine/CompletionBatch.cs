using System;
using System.Threading;

namespace Proactor;

/// <summary>
/// <see cref="CompletionDispatch.ThreadPool"/>: hands an engine's finished operations to the
/// thread pool in batches, as the runtime's <c>SocketAsyncEngine</c> does, instead of one pool work
/// item per completion. The engine thread appends each completion to a ready queue; at the end of
/// its loop iteration (<see cref="Flush"/>) it queues this object once, if it is not queued
/// already; the pool thread that runs it sets each operation's result, and the caller's
/// continuation runs right there, synchronously.
/// </summary>
/// <remarks>
/// <para>Per completion this saves a work item, the pool's thread request that comes with it, and
/// most of the wake-ups of idle pool threads: one pool thread runs what one loop iteration
/// produced. A continuation that blocks holds only its own thread (<see cref="PoolBatch{T}"/>'s
/// protocol).</para>
/// <para>A captured <see cref="SynchronizationContext"/> or <see cref="System.Threading.Tasks.TaskScheduler"/>
/// is still honoured: with <c>RunContinuationsAsynchronously</c> off,
/// <see cref="System.Threading.Tasks.Sources.ManualResetValueTaskSourceCore{TResult}"/> posts to a
/// captured context and runs only context-free continuations inline; an <see cref="ExecutionContext"/>
/// captured by the awaiter flows through it the same way.</para>
/// <para>A completion finished on another thread than the engine's (a straggler completed by the
/// thread that found the engine stopped), or during the engine's shutdown, is handed over at once:
/// only the running engine thread defers.</para>
/// </remarks>
internal sealed class CompletionBatch : PoolBatch<Operation>
{
    [ThreadStatic]
    private static CompletionBatch? t_delivering;

    /// <summary>Set by a backend (through <see cref="OweWake"/>) when a post from this thread's
    /// batch left the engine's wake-up to the batch's end.</summary>
    [ThreadStatic]
    private static bool t_wakeOwed;

    private readonly ProactorEngine _engine;
    private int _workers; // queued or running workers
    private int _pendingCount; // engine thread only: added since the last Flush

    public CompletionBatch(ProactorEngine engine) => _engine = engine;

    /// <summary>True while the calling thread runs continuations from <paramref name="engine"/>'s
    /// batch: work it posts to the engine may wait for the batch's end (see
    /// <see cref="ProactorEngine.OnBatchDelivered"/>).</summary>
    public static bool IsDeliveringFor(ProactorEngine engine) => t_delivering?._engine == engine;

    /// <summary>True while a worker is queued or running. Counted with a full fence before the
    /// worker is queued, so a thread running in that worker (or caused by it) has the count
    /// ordered before anything it does.</summary>
    public bool HasWorkers => Volatile.Read(ref _workers) != 0;

    /// <summary>Adds a finished operation. On the engine thread the hand-off waits for
    /// <see cref="Flush"/>; on any other thread it happens now.</summary>
    public void Add(Operation operation)
    {
        Enqueue(operation);

        // Once Dispose has begun, the shutdown's own waits (for the kernel or the OS stack to
        // return aborted calls) may last seconds: what they complete goes out at once.
        if (_engine.IsEngineThread && !_engine.IsDisposed)
        {
            _pendingCount++;
        }
        else
        {
            ScheduleWorker();
        }
    }

    /// <summary>Engine thread, at the end of each loop iteration and after its shutdown: queues a
    /// worker for what the iteration completed.</summary>
    /// <returns>True when it queued a worker: no worker was running the batch.</returns>
    public bool Flush()
    {
        if (_pendingCount > 0)
        {
            LastFlushCount = _pendingCount;
            _pendingCount = 0;
            return ScheduleWorker();
        }

        return false;
    }

    /// <summary>Engine thread: how many operations the last <see cref="Flush"/> handed over.</summary>
    public int LastFlushCount { get; private set; }

    /// <summary>A post from a running batch deferred its wake-up: the batch's end calls
    /// <see cref="ProactorEngine.OnBatchDelivered"/>.</summary>
    public static void OweWake() => t_wakeOwed = true;

    protected override void OnQueuingWorker() => Interlocked.Increment(ref _workers);

    protected override void Deliver(Operation item) => item.DeliverBatched();

    protected override void ExecuteWorker()
    {
        t_delivering = this;
        try
        {
            RunWorker();
        }
        finally
        {
            t_delivering = null;
            Interlocked.Decrement(ref _workers);
        }

        _engine.OnBatchWorkerDone();

        if (t_wakeOwed)
        {
            // After the count: an engine that sees no worker left and sleeps without bound is
            // then surely woken here.
            t_wakeOwed = false;
            _engine.OnBatchDelivered();
        }
    }
}
