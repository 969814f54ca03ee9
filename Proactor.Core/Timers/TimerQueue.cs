using System;
using System.Collections.Generic;
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
/// Each entry remembers its index in the heap, so cancelling removes its node at once: the heap
/// holds exactly the live deadlines (a lazily cancelled design kept every completed operation's
/// timeout until it reached the top: unbounded growth behind one long deadline).
///
/// Callbacks run on the thread that calls <see cref="RunDue"/> (the loop), outside the lock, and
/// may schedule or cancel entries, their own included. Due times saturate: a deadline beyond the
/// clock's range never fires rather than overflowing into the past.
/// </remarks>
internal sealed class TimerQueue
{
    private readonly Lock _lock = new();
    private TimerEntry[] _heap = new TimerEntry[64];
    private int _count;
    private long _order;
    private bool _closed;

    /// <summary>Live (scheduled, not yet fired or cancelled) deadlines.</summary>
    public int Count => Volatile.Read(ref _count);

    public static long Now => Stopwatch.GetTimestamp();

    /// <summary>The Stopwatch timestamp <paramref name="span"/> from now; <see cref="long.MaxValue"/>
    /// (never) when that lies beyond the clock's range.</summary>
    public static long DueAfter(TimeSpan span)
    {
        long now = Now;
        if (span <= TimeSpan.Zero)
        {
            return now;
        }

        double ticks = Math.Ceiling(span.TotalSeconds * Stopwatch.Frequency);
        return ticks >= (double)(long.MaxValue - now) ? long.MaxValue : now + (long)ticks;
    }

    /// <summary>
    /// Schedules <paramref name="entry"/> to fire at <paramref name="due"/> (Stopwatch ticks),
    /// replacing its previous deadline if it had one.
    /// </summary>
    public TimerScheduleResult Schedule(TimerEntry entry, long due)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return TimerScheduleResult.Closed;
            }

            if (entry.HeapIndex >= 0)
            {
                RemoveAt(entry.HeapIndex);
            }

            if (_count == _heap.Length)
            {
                Array.Resize(ref _heap, _heap.Length * 2);
            }

            entry.Due = due;
            entry.Order = _order++;
            int i = _count;
            Volatile.Write(ref _count, _count + 1);
            Place(entry, i);
            SiftUp(i);
            return _heap[0] == entry ? TimerScheduleResult.Earliest : TimerScheduleResult.Scheduled;
        }
    }

    /// <summary>
    /// Cancels <paramref name="entry"/>'s deadline. Returns true when it will not fire. When its
    /// callback is running on another thread, waits for it to return first, so the caller may
    /// recycle what the callback touches; on the firing thread itself (a callback cancelling its
    /// own entry) it does not wait. Callbacks are short and never wait for a user thread, so the
    /// wait is bounded by the loop, never the other way round.
    /// </summary>
    public bool Cancel(TimerEntry entry)
    {
        lock (_lock)
        {
            if (entry.HeapIndex >= 0)
            {
                RemoveAt(entry.HeapIndex);
                return true;
            }

            if (!entry.Firing || entry.FiringThread == Environment.CurrentManagedThreadId)
            {
                return false;
            }
        }

        var spinner = new SpinWait();
        while (Volatile.Read(ref entry.Firing))
        {
            spinner.SpinOnce();
        }

        return false;
    }

    /// <summary>Milliseconds the loop may wait before the earliest deadline: -1 when there is none.</summary>
    public int GetWaitTimeoutMilliseconds()
    {
        lock (_lock)
        {
            if (_count == 0 || _heap[0].Due == long.MaxValue)
            {
                return -1;
            }

            long remaining = _heap[0].Due - Now;
            if (remaining <= 0)
            {
                return 0;
            }

            // Round up: waking a little late is allowed, firing early is not. Past int.MaxValue ms
            // (~24.8 days) the loop waits that long and asks again.
            long frequency = Stopwatch.Frequency;
            if (remaining / frequency >= int.MaxValue / 1000)
            {
                return int.MaxValue;
            }

            long ms = ((remaining * 1000) + frequency - 1) / frequency;
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
            lock (_lock)
            {
                if (_count == 0 || _heap[0].Due > Now)
                {
                    return fired;
                }

                entry = _heap[0];
                RemoveAt(0);
                entry.FiringThread = Environment.CurrentManagedThreadId;
                Volatile.Write(ref entry.Firing, true);
            }

            try
            {
                entry.Invoke();
            }
            finally
            {
                // Only the firing flag is cleared: a callback that rescheduled its own entry has put
                // it back in the heap, and that new deadline stands.
                Volatile.Write(ref entry.Firing, false);
            }

            fired++;
        }
    }

    /// <summary>
    /// The engine is gone: no deadline will fire any more. Returns the entries that were still
    /// scheduled; later <see cref="Schedule"/> calls report <see cref="TimerScheduleResult.Closed"/>.
    /// </summary>
    public List<TimerEntry> Close()
    {
        lock (_lock)
        {
            _closed = true;
            var pending = new List<TimerEntry>(_count);
            for (int i = 0; i < _count; i++)
            {
                _heap[i].HeapIndex = -1;
                pending.Add(_heap[i]);
                _heap[i] = null!;
            }

            Volatile.Write(ref _count, 0);
            return pending;
        }
    }

    private void Place(TimerEntry entry, int i)
    {
        _heap[i] = entry;
        entry.HeapIndex = i;
    }

    private void RemoveAt(int i)
    {
        TimerEntry removed = _heap[i];
        removed.HeapIndex = -1;
        int last = _count - 1;
        Volatile.Write(ref _count, last);
        if (i == last)
        {
            _heap[last] = null!;
            return;
        }

        TimerEntry moved = _heap[last];
        _heap[last] = null!;
        Place(moved, i);
        if (i > 0 && Earlier(moved, _heap[(i - 1) >> 1]))
        {
            SiftUp(i);
        }
        else
        {
            SiftDown(i);
        }
    }

    private static bool Earlier(TimerEntry a, TimerEntry b) => a.Due < b.Due || (a.Due == b.Due && a.Order < b.Order);

    private void SiftUp(int i)
    {
        TimerEntry entry = _heap[i];
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Earlier(entry, _heap[parent]))
            {
                break;
            }

            Place(_heap[parent], i);
            i = parent;
        }

        Place(entry, i);
    }

    private void SiftDown(int i)
    {
        TimerEntry entry = _heap[i];
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

            if (!Earlier(_heap[child], entry))
            {
                break;
            }

            Place(_heap[child], i);
            i = child;
        }

        Place(entry, i);
    }
}

/// <summary>What <see cref="TimerQueue.Schedule"/> did.</summary>
internal enum TimerScheduleResult
{
    /// <summary>Scheduled behind an earlier deadline: the loop's current wait is short enough.</summary>
    Scheduled,

    /// <summary>Scheduled as the earliest deadline: the loop must be woken to shorten its wait.</summary>
    Earliest,

    /// <summary>The engine is gone: the entry was not scheduled and will never fire.</summary>
    Closed,
}

/// <summary>
/// One reusable deadline of a <see cref="TimerQueue"/>: scheduled, then fired by the loop or
/// cancelled, then scheduled again. Its heap position and firing state are guarded by the queue's lock.
/// </summary>
internal sealed class TimerEntry
{
    private readonly Action<object?> _callback;
    private readonly Action<object?>? _closed;
    private readonly object? _state;

    /// <param name="callback">Runs on the loop when the deadline is reached.</param>
    /// <param name="state">Passed to both callbacks.</param>
    /// <param name="closed">Runs instead, on the disposing thread, when the engine is disposed while
    /// the deadline is pending (null: the entry is simply dropped).</param>
    public TimerEntry(Action<object?> callback, object? state, Action<object?>? closed = null)
    {
        _callback = callback;
        _state = state;
        _closed = closed;
    }

    /// <summary>Index in the heap, -1 when not scheduled.</summary>
    internal int HeapIndex = -1;

    internal long Due;

    /// <summary>Ties fire in scheduling order.</summary>
    internal long Order;

    /// <summary>True while the loop runs the callback (outside the queue's lock).</summary>
    internal bool Firing;

    internal int FiringThread;

    internal void Invoke() => _callback(_state);

    internal void InvokeClosed() => _closed?.Invoke(_state);
}
