using System;
using System.IO.Pipelines;
using System.Threading;

namespace Proactor.Pipelines;

/// <summary>
/// Runs one pipe side's continuations on the thread pool without allocating: it is its own
/// <see cref="IThreadPoolWorkItem"/>. <see cref="PipeScheduler.ThreadPool"/> wraps every
/// continuation in a new work item (about 40 B per request); a connection has one of these per
/// application side instead.
/// </summary>
/// <remarks>
/// A pipe side has at most one awaiting continuation (a second concurrent read or flush is refused
/// by the pipe), so one slot suffices; should a second arrive before the first ran, it goes to
/// the pool the allocating way rather than wait behind the first.
/// </remarks>
internal sealed class ThreadPoolPipeScheduler : PipeScheduler, IThreadPoolWorkItem
{
    private Action<object?>? _action;
    private object? _state;
    private int _busy;

    public override void Schedule(Action<object?> action, object? state)
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            System.Threading.ThreadPool.UnsafeQueueUserWorkItem(action, state, preferLocal: false);
            return;
        }

        _action = action;
        _state = state;
        System.Threading.ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        Action<object?> action = _action!;
        object? state = _state;
        _action = null;
        _state = null;
        Volatile.Write(ref _busy, 0); // before running: the continuation may schedule the next one
        action(state);
    }
}
