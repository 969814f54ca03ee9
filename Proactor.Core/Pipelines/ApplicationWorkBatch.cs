using System;
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
/// Blocking is allowed, as on the pool: a continuation that blocks holds only its own thread
/// (<see cref="PoolBatch{T}"/>'s protocol, shared with <see cref="CompletionBatch"/>). Scheduling
/// allocates nothing in steady state.
/// </remarks>
internal sealed class ApplicationWorkBatch : PipeScheduler
{
    private readonly ProactorEngine _engine;
    private readonly Batch _batch;
    private bool _flushPending; // engine thread only
    private long _deferred;

    public ApplicationWorkBatch(ProactorEngine engine)
    {
        _engine = engine;
        _batch = new Batch();
    }

    /// <summary>Continuations that waited for the end of a loop iteration (test and bench counter).</summary>
    public long Deferred => Interlocked.Read(ref _deferred);

    /// <summary>Pool work items queued for them (test and bench counter).</summary>
    public long WorkItems => _batch.WorkItems;

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
            _batch.Add(new Work(action, state));
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
            _batch.Schedule();
        }
    }

    private readonly record struct Work(Action<object?> Action, object? State);

    private sealed class Batch : PoolBatch<Work>
    {
        private long _workItems;

        public long WorkItems => Interlocked.Read(ref _workItems);

        public void Add(Work work) => Enqueue(work);

        public void Schedule() => _ = ScheduleWorker();

        protected override void OnQueuingWorker() => Interlocked.Increment(ref _workItems);

        protected override void Deliver(Work item) => item.Action(item.State);
    }
}
