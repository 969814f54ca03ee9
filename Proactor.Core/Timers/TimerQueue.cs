using System;
using System.Diagnostics;
using System.Threading;

namespace Proactor;

/// <summary>
/// The engine's deadlines: a binary min-heap ordered by due time, drained by the engine's loop
/// thread. The loop's wait (epoll_wait / poll / select timeout, an io_uring timeout, the
/// completion-port wait) lasts until the earliest deadline, so no OS timer exists per deadline;
/// scheduling and cancelling cost O(log n).
/// </summary>
/// <remarks>
/// Entries are cancelled lazily: cancelling flips the entry's state and leaves its heap node,
/// which is dropped when it reaches the top (a node remembers the entry's sequence number at
/// scheduling time, so a reused entry never fires for a stale node).
/// </remarks>
internal sealed class TimerQueue
{
    private readonly Lock _lock = new();
    private Node[] _heap = new Node[64];
    private int _count;

    private struct Node
    {
        public long Due;
        public long Order; // ties fire in scheduling order
        public TimerEntry Entry;
        public int Sequence;
    }

    private long _order;

    /// <summary>Live and lazily cancelled nodes (for tests and metrics).</summary>
    public int Count => Volatile.Read(ref _count);

    public static long Now => Stopwatch.GetTimestamp();

    public static long ToTicks(TimeSpan span) =>
        span <= TimeSpan.Zero ? 0 : (long)Math.Ceiling(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>
    /// Schedules <paramref name="entry"/> to fire at <paramref name="due"/> (Stopwatch ticks).
    /// Returns true when it became the earliest deadline, so the loop must be woken to shorten its wait.
    /// </summary>
    public bool Schedule(TimerEntry entry, long due)
    {
        lock (_lock)
        {
            int sequence = entry.BeginSchedule();
            if (_count == _heap.Length)
            {
                Array.Resize(ref _heap, _heap.Length * 2);
            }

            int i = _count++;
            _heap[i] = new Node { Due = due, Order = _order++, Entry = entry, Sequence = sequence };
            SiftUp(i);
            return _heap[0].Entry == entry && _heap[0].Sequence == sequence;
        }
    }

    /// <summary>Milliseconds the loop may wait before the earliest deadline: -1 when there is none.</summary>
    public int GetWaitTimeoutMilliseconds()
    {
        lock (_lock)
        {
            while (_count > 0 && !_heap[0].Entry.IsScheduled(_heap[0].Sequence))
            {
                Pop();
            }

            if (_count == 0)
            {
                return -1;
            }

            long remaining = _heap[0].Due - Now;
            if (remaining <= 0)
            {
                return 0;
            }

            // Round up: waking a little late is allowed, firing early is not.
            long ms = (remaining * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency;
            return (int)Math.Min(ms, int.MaxValue);
        }
    }

    /// <summary>Loop thread: fires every entry that is due, earliest first. Returns how many fired.</summary>
    public int RunDue()
    {
        int fired = 0;
        while (true)
        {
            TimerEntry entry;
            int sequence;
            lock (_lock)
            {
                if (_count == 0)
                {
                    return fired;
                }

                ref Node top = ref _heap[0];
                if (top.Entry.IsScheduled(top.Sequence) && top.Due > Now)
                {
                    return fired;
                }

                entry = top.Entry;
                sequence = top.Sequence;
                Pop();
            }

            if (entry.TryFire(sequence))
            {
                fired++;
            }
        }
    }

    private void Pop()
    {
        _count--;
        _heap[0] = _heap[_count];
        _heap[_count] = default;
        if (_count > 0)
        {
            SiftDown(0);
        }
    }

    private static bool Earlier(in Node a, in Node b) => a.Due < b.Due || (a.Due == b.Due && a.Order < b.Order);

    private void SiftUp(int i)
    {
        Node node = _heap[i];
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Earlier(node, _heap[parent]))
            {
                break;
            }

            _heap[i] = _heap[parent];
            i = parent;
        }

        _heap[i] = node;
    }

    private void SiftDown(int i)
    {
        Node node = _heap[i];
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && Earlier(_heap[child + 1], _heap[child]))
            {
                child++;
            }

            if (!Earlier(_heap[child], node))
            {
                break;
            }

            _heap[i] = _heap[child];
            i = child;
        }

        _heap[i] = node;
    }
}

/// <summary>
/// One reusable deadline: scheduled, then fired by the loop or cancelled, then scheduled again.
/// Cancel waits for a callback already running on another thread, so after Cancel returns the
/// callback's state may be recycled (an operation uses this for its timeout).
/// </summary>
/// <remarks>
/// State: Idle --Schedule--> Scheduled --TryFire--> Firing --> Idle
///                                     \--Cancel--> Idle (the heap node goes stale)
/// </remarks>
internal sealed class TimerEntry
{
    private const int Idle = 0;
    private const int Scheduled = 1;
    private const int Firing = 2;

    private readonly Action<object?> _callback;
    private readonly object? _state;
    private int _status;
    private int _sequence;
    private int _firingThread;

    public TimerEntry(Action<object?> callback, object? state)
    {
        _callback = callback;
        _state = state;
    }

    internal int BeginSchedule()
    {
        int sequence = Interlocked.Increment(ref _sequence);
        Volatile.Write(ref _status, Scheduled);
        return sequence;
    }

    internal bool IsScheduled(int sequence) =>
        Volatile.Read(ref _status) == Scheduled && Volatile.Read(ref _sequence) == sequence;

    internal bool TryFire(int sequence)
    {
        if (Volatile.Read(ref _sequence) != sequence ||
            Interlocked.CompareExchange(ref _status, Firing, Scheduled) != Scheduled)
        {
            return false;
        }

        _firingThread = Environment.CurrentManagedThreadId;
        try
        {
            _callback(_state);
        }
        finally
        {
            _firingThread = 0;
            Volatile.Write(ref _status, Idle);
        }

        return true;
    }

    /// <summary>Cancels a scheduled firing. Returns true when it will not fire (it had not started).</summary>
    public bool Cancel()
    {
        if (Interlocked.CompareExchange(ref _status, Idle, Scheduled) == Scheduled)
        {
            return true;
        }

        // Firing on another thread: wait, so the caller may recycle what the callback touches.
        // On the firing thread itself (the callback cancels its own timer) there is nothing to wait for.
        if (Volatile.Read(ref _status) == Firing && _firingThread != Environment.CurrentManagedThreadId)
        {
            var spinner = new SpinWait();
            while (Volatile.Read(ref _status) == Firing)
            {
                spinner.SpinOnce();
            }
        }

        return false;
    }
}
