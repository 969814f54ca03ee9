using System;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Threading;

namespace Proactor.Pipelines;

/// <summary>
/// The default application scheduler of every <see cref="ProactorConnection"/> on one engine (one
/// instance per engine): where the pipes resume the application (its pending <c>ReadAsync</c>, a
/// paused <c>FlushAsync</c>). Application code never runs on the engine's loop thread, and it
/// reaches the thread pool in as few work items as possible:
/// <list type="bullet">
/// <item>On the loop thread (<see cref="CompletionDispatch.Inline"/>: a receive's continuation
/// flushed the input), the continuation waits for the end of the loop iteration, and what the
/// iteration resumed goes to the pool as one work item: with 64 busy connections, one work item
/// per loop iteration instead of one per request.</item>
/// <item>On a pool thread that is delivering the engine's batch of completions
/// (<see cref="CompletionDispatch.ThreadPool"/>), it runs right there: the request is handled on
/// the pool thread that received it, with no second hop.</item>
/// <item>Anywhere else (an I/O queue, a thread of the application's), it is queued to the pool
/// as <see cref="PipeScheduler.ThreadPool"/> would.</item>
/// </list>
/// </summary>
/// <remarks>
/// Blocking is allowed, as on the pool: a worker that takes its first continuation and sees more
/// waiting queues one more worker first (the runtime's speculative parallelism, as
/// <see cref="CompletionBatch"/> does), so a continuation that blocks only holds its own thread;
/// a worker also yields after 15 ms of continuations. The stage protocol is
/// <see cref="CompletionBatch"/>'s. Scheduling allocates nothing in steady state.
/// </remarks>
internal sealed class ApplicationWorkBatch : PipeScheduler, IThreadPoolWorkItem
{
    private const int NotScheduled = 0;
    private const int Determining = 1;
    private const int Scheduled = 2;
    private const int YieldAfterMilliseconds = 15;

    private readonly ProactorEngine _engine;
    private readonly ConcurrentQueue<Work> _ready = new();
    private int _stage;
    private bool _flushPending; // engine thread only
    private long _deferred;
    private long _workItems;

    public ApplicationWorkBatch(ProactorEngine engine) => _engine = engine;

    /// <summary>Continuations that waited for the end of a loop iteration (test and bench counter).</summary>
    public long Deferred => Interlocked.Read(ref _deferred);

    /// <summary>Pool work items queued for them (test and bench counter).</summary>
    public long WorkItems => Interlocked.Read(ref _workItems);

    public override void Schedule(Action<object?> action, object? state)
    {
        if (CompletionBatch.IsDeliveringFor(_engine))
        {
            action(state);
            return;
        }

        // Once Dispose has begun the loop may not flush again: hand over at once.
        if (_engine.IsEngineThread && !_engine.IsDisposed)
        {
            _ready.Enqueue(new Work(action, state));
            _flushPending = true;
            Interlocked.Increment(ref _deferred);
            return;
        }

        System.Threading.ThreadPool.UnsafeQueueUserWorkItem(action, state, preferLocal: false);
    }

    /// <summary>Engine thread, at the end of each loop iteration (with <see cref="CompletionBatch.Flush"/>):
    /// queues a worker for what the iteration resumed.</summary>
    public void Flush()
    {
        if (_flushPending)
        {
            _flushPending = false;
            QueueIfIdle();
        }
    }

    private void QueueIfIdle()
    {
        if (Volatile.Read(ref _stage) != Scheduled && Interlocked.Exchange(ref _stage, Scheduled) == NotScheduled)
        {
            QueueWorker();
        }
    }

    private void QueueWorker()
    {
        Interlocked.Increment(ref _workItems);
        System.Threading.ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        Work work;
        while (true)
        {
            // Published before the queue is read: an enqueuer that reads Determining (or
            // Scheduled) queues nothing, so this worker must see its item or its stage change.
            Interlocked.Exchange(ref _stage, Determining);
            if (_ready.TryDequeue(out work))
            {
                break;
            }

            if (Interlocked.CompareExchange(ref _stage, NotScheduled, Determining) == Determining)
            {
                return;
            }
        }

        if (!_ready.IsEmpty)
        {
            // More waiting: a successor takes them if this continuation blocks.
            Volatile.Write(ref _stage, Scheduled);
            QueueWorker();
        }
        else if (Interlocked.CompareExchange(ref _stage, NotScheduled, Determining) == Scheduled)
        {
            QueueWorker(); // a flush raced the look
        }

        int start = Environment.TickCount;
        while (true)
        {
            work.Action(work.State);
            if (Environment.TickCount - start >= YieldAfterMilliseconds)
            {
                if (!_ready.IsEmpty)
                {
                    QueueIfIdle();
                }

                return;
            }

            if (!_ready.TryDequeue(out work))
            {
                return;
            }
        }
    }

    private readonly record struct Work(Action<object?> Action, object? State);
}
