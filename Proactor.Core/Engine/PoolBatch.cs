using System;
using System.Collections.Concurrent;
using System.Threading;

namespace Proactor;

/// <summary>
/// Hands items to the thread pool in batches: one queued work item (a <em>worker</em>) runs every
/// item waiting, instead of one work item per item. The protocol both of an engine's batches keep
/// (<see cref="CompletionBatch"/> for finished operations, <see cref="Pipelines.ApplicationWorkBatch"/>
/// for the application's pipe continuations).
/// </summary>
/// <remarks>
/// <para>An item may block (it is user code on the pool, where blocking is allowed). It must only
/// block its own thread: a worker that takes its first item and sees more waiting queues one more
/// worker before it runs that item (the runtime's speculative parallelism), and a worker that finds
/// the queue empty resets the stage so that the next item queues a new worker. So an item in the
/// queue always has a worker queued or about to look for it, whatever the running workers are stuck
/// in. A worker also yields its thread after <see cref="YieldAfterMilliseconds"/> (queuing a
/// successor when items remain), so a steady stream cannot hold one pool thread for good.</para>
/// <para>The stage protocol is the runtime's <c>SocketAsyncEngine</c>'s: <c>Determining</c> is
/// written with a full fence before the worker looks at the queue, and a producer that enqueued
/// while a worker was determining leaves the stage <c>Scheduled</c>, which that worker sees in its
/// compare-exchange and answers by queuing one more.</para>
/// <para>Nothing is allocated per item or per worker: the batch itself is the work item.</para>
/// </remarks>
internal abstract class PoolBatch<T> : IThreadPoolWorkItem
{
    /// <summary>How long one worker runs items before it yields its thread.</summary>
    public const int YieldAfterMilliseconds = 15;

    private const int NotScheduled = 0;
    private const int Determining = 1;
    private const int Scheduled = 2;

    private readonly ConcurrentQueue<T> _ready = new();
    private int _stage;

    /// <summary>Adds an item; <see cref="ScheduleWorker"/> makes sure a worker will run it.</summary>
    protected void Enqueue(T item) => _ready.Enqueue(item);

    /// <summary>Queues a worker unless one is queued or about to look at the queue; true when
    /// this call queued one.</summary>
    protected bool ScheduleWorker()
    {
        if (Volatile.Read(ref _stage) != Scheduled && Interlocked.Exchange(ref _stage, Scheduled) == NotScheduled)
        {
            QueueWorker();
            return true;
        }

        return false;
    }

    /// <summary>Called just before a worker is queued (for counting; with a full fence when the
    /// override uses an interlocked operation).</summary>
    protected virtual void OnQueuingWorker()
    {
    }

    /// <summary>Runs one item on a worker.</summary>
    protected abstract void Deliver(T item);

    /// <summary>The worker's body; an override may wrap it (around <see cref="RunWorker"/>).</summary>
    protected virtual void ExecuteWorker() => RunWorker();

    void IThreadPoolWorkItem.Execute() => ExecuteWorker();

    private void QueueWorker()
    {
        OnQueuingWorker();
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>The stage protocol, then the items until the queue is empty or the worker has run
    /// for <see cref="YieldAfterMilliseconds"/>.</summary>
    protected void RunWorker()
    {
        T? item;
        while (true)
        {
            // Published before the queue is read: a producer that reads Determining (or
            // Scheduled) queues nothing, so this worker must see its item or its stage change.
            Interlocked.Exchange(ref _stage, Determining);
            if (_ready.TryDequeue(out item))
            {
                break;
            }

            if (Interlocked.CompareExchange(ref _stage, NotScheduled, Determining) == Determining)
            {
                return;
            }

            // A producer ran in between and left the scheduling to us: look again.
        }

        if (!_ready.IsEmpty)
        {
            // More waiting: a successor takes them if this item blocks.
            Volatile.Write(ref _stage, Scheduled);
            QueueWorker();
        }
        else if (Interlocked.CompareExchange(ref _stage, NotScheduled, Determining) == Scheduled)
        {
            QueueWorker(); // a producer raced the look
        }

        int start = Environment.TickCount;
        while (true)
        {
            Deliver(item);
            if (Environment.TickCount - start >= YieldAfterMilliseconds)
            {
                if (!_ready.IsEmpty)
                {
                    ScheduleWorker();
                }

                return;
            }

            if (!_ready.TryDequeue(out item))
            {
                return;
            }
        }
    }
}
