using System;
using System.Collections.Concurrent;
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
/// produced.</para>
/// <para>A continuation may block (it is user code on the pool, where blocking is allowed). It must
/// only block its own thread: a worker that takes its first item and sees more waiting queues one
/// more worker before it runs that item (the runtime's speculative parallelism), and a worker that
/// finds the queue empty resets the stage so that the next completion queues a new worker. So an
/// item in the queue always has a worker queued or about to look for it, whatever the running
/// workers are stuck in. The stage protocol is the runtime's: <c>Determining</c> is written with a
/// full fence before the worker looks at the queue, and an engine that enqueued while a worker was
/// determining leaves the stage <c>Scheduled</c>, which that worker sees in its compare-exchange
/// and answers by queuing one more.</para>
/// <para>A captured <see cref="SynchronizationContext"/> or <see cref="System.Threading.Tasks.TaskScheduler"/>
/// is still honoured: with <c>RunContinuationsAsynchronously</c> off,
/// <see cref="System.Threading.Tasks.Sources.ManualResetValueTaskSourceCore{TResult}"/> posts to a
/// captured context and runs only context-free continuations inline; an <see cref="ExecutionContext"/>
/// captured by the awaiter flows through it the same way.</para>
/// <para>A completion finished on another thread than the engine's (a straggler completed by the
/// thread that found the engine stopped), or during the engine's shutdown, is handed over at once:
/// only the running engine thread defers.</para>
/// </remarks>
internal sealed class CompletionBatch : IThreadPoolWorkItem
{
    private const int NotScheduled = 0;
    private const int Determining = 1;
    private const int Scheduled = 2;

    /// <summary>A worker that has run this long yields its thread (queuing a successor when items
    /// remain), so a steady stream of completions cannot hold one pool thread for good.</summary>
    private const int YieldAfterMilliseconds = 15;

    [ThreadStatic]
    private static CompletionBatch? t_delivering;

    private readonly ProactorEngine _engine;
    private readonly ConcurrentQueue<Operation> _ready = new();
    private int _stage;
    private int _workers; // queued or running Execute calls
    private bool _flushPending; // engine thread only

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
        _ready.Enqueue(operation);

        // Once Dispose has begun, the shutdown's own waits (for the kernel or the OS stack to
        // return aborted calls) may last seconds: what they complete goes out at once.
        if (_engine.IsEngineThread && !_engine.IsDisposed)
        {
            _flushPending = true;
        }
        else
        {
            Schedule();
        }
    }

    /// <summary>Engine thread, at the end of each loop iteration and after its shutdown: queues a
    /// worker for what the iteration completed.</summary>
    public void Flush()
    {
        if (_flushPending)
        {
            _flushPending = false;
            Schedule();
        }
    }

    private void Schedule()
    {
        if (Volatile.Read(ref _stage) != Scheduled && Interlocked.Exchange(ref _stage, Scheduled) == NotScheduled)
        {
            QueueWorker();
        }
    }

    private void QueueWorker()
    {
        Interlocked.Increment(ref _workers);
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        try
        {
            Run();
        }
        finally
        {
            Interlocked.Decrement(ref _workers);
        }

        if (t_wakeOwed)
        {
            // After the count: an engine that sees no worker left and sleeps without bound is
            // then surely woken here.
            t_wakeOwed = false;
            _engine.OnBatchDelivered();
        }
    }

    private void Run()
    {
        Operation? op;
        while (true)
        {
            // Published before the queue is read: an enqueuer that reads Determining (or
            // Scheduled) queues nothing, so this worker must see its item or its stage change.
            Interlocked.Exchange(ref _stage, Determining);
            if (_ready.TryDequeue(out op))
            {
                break;
            }

            if (Interlocked.CompareExchange(ref _stage, NotScheduled, Determining) == Determining)
            {
                return;
            }

            // An enqueuer ran in between and left the scheduling to us: look again.
        }

        if (!_ready.IsEmpty)
        {
            // More waiting: a successor takes them if this item's continuation blocks.
            Volatile.Write(ref _stage, Scheduled);
            QueueWorker();
        }
        else if (Interlocked.CompareExchange(ref _stage, NotScheduled, Determining) == Scheduled)
        {
            QueueWorker(); // an enqueue raced the look
        }

        int start = Environment.TickCount;
        t_delivering = this;
        try
        {
            while (true)
            {
                op.DeliverBatched();
                if (Environment.TickCount - start >= YieldAfterMilliseconds)
                {
                    if (!_ready.IsEmpty)
                    {
                        Schedule();
                    }

                    return;
                }

                if (!_ready.TryDequeue(out op))
                {
                    return;
                }
            }
        }
        finally
        {
            t_delivering = null;
        }
    }

    /// <summary>Set by a backend (through <see cref="OweWake"/>) when a post from this thread's
    /// batch left the engine's wake-up to the batch's end.</summary>
    [ThreadStatic]
    private static bool t_wakeOwed;

    /// <summary>A post from a running batch deferred its wake-up: the batch's end calls
    /// <see cref="ProactorEngine.OnBatchDelivered"/>.</summary>
    public static void OweWake() => t_wakeOwed = true;
}
