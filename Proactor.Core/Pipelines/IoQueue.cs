using System;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Threading;

namespace Proactor.Pipelines;

/// <summary>
/// A <see cref="PipeScheduler"/> that runs what it is given later, in order, on one thread-pool
/// work item at a time (Kestrel's Sockets transport calls it an IOQueue). The connection's send
/// loop is scheduled here, not run inline by the flushing thread: a Kestrel connection answering
/// 16 pipelined requests flushes 16 times while it parses them, and only the first flush wakes the
/// send loop; by the time this queue runs it, all 16 responses are in the pipe and leave in one
/// gather send instead of 16.
/// </summary>
/// <remarks>
/// Scheduling allocates nothing in steady state: the queue stores (callback, state) pairs, and the
/// queue itself is the thread-pool work item. Connections are spread over
/// <see cref="SharedCount"/> shared queues so that sends of different connections can run on
/// several cores.
/// </remarks>
internal sealed class IoQueue : PipeScheduler, IThreadPoolWorkItem
{
    private static readonly IoQueue[] s_shared = CreateShared();
    private static int s_next;

    private readonly ConcurrentQueue<Work> _work = new();
    private int _scheduled; // 1 while a work item is queued or running

    /// <summary>How many shared queues connections are spread over: one per processor, at most 16 (as Kestrel).</summary>
    public static int SharedCount => s_shared.Length;

    /// <summary>The next shared queue, round-robin: a connection keeps the one it got.</summary>
    public static IoQueue NextShared() =>
        s_shared[(int)((uint)Interlocked.Increment(ref s_next) % (uint)s_shared.Length)];

    private static IoQueue[] CreateShared()
    {
        var queues = new IoQueue[Math.Clamp(Environment.ProcessorCount, 1, 16)];
        for (int i = 0; i < queues.Length; i++)
        {
            queues[i] = new IoQueue();
        }

        return queues;
    }

    public override void Schedule(Action<object?> action, object? state)
    {
        _work.Enqueue(new Work(action, state));
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            System.Threading.ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        while (true)
        {
            while (_work.TryDequeue(out Work work))
            {
                work.Action(work.State);
            }

            // Cleared before the emptiness check (Exchange is a full fence): a Schedule that
            // enqueued after our last TryDequeue either sees 0 and queues a new work item, or its
            // item is seen here.
            Interlocked.Exchange(ref _scheduled, 0);
            if (_work.IsEmpty || Interlocked.Exchange(ref _scheduled, 1) != 0)
            {
                return;
            }
        }
    }

    private readonly record struct Work(Action<object?> Action, object? State);
}
