using System;
using System.Collections.Generic;
using System.Runtime.Versioning;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// The registrations of a demultiplexer that hands the kernel the whole descriptor set on every
/// wait (poll, select): the kernel keeps no interest list, so this table is the interest list.
/// </summary>
/// <remarks>
/// Any thread changes the table; the loop thread snapshots it before each wait. A change made
/// while the loop is blocked with an older snapshot would go unseen until something else woke it
/// (a new receive whose socket is not in the set would hang), so:
/// <list type="bullet">
/// <item>every change that alters the watched set bumps <see cref="_version"/>, and the loop takes a
/// new snapshot whenever the version moved;</item>
/// <item>between <see cref="BeginWait"/> and <see cref="EndWait"/> the loop counts as blocked, and
/// the first change in that window wakes the loop through the engine's <see cref="EventFdWaker"/>
/// (its eventfd is in the snapshot), so the wait returns and the next one re-reads. The change
/// lands before the wake under one lock, so there is no window in which a change is made but
/// neither seen by the snapshot nor announced by a wake. A change made on the loop thread itself,
/// or while the loop is busy dispatching, needs no wake: the next wait re-reads.</item>
/// </list>
/// The waker is the engine's one wake-up: it keeps the descriptor alive while it writes and is
/// drained by the engine like any other wake, so an idle loop stays blocked.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class PollingTable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, int> _indexByFd = new();
    private PollingRegistration[] _entries = new PollingRegistration[64];
    private int _count;
    private int _version;
    private EventFdWaker? _waker;
    private bool _waiting;
    private bool _wakeWritten;
    private bool _disposed;

    public void Register(int fd, ulong key, Interest interest)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_indexByFd.TryAdd(fd, _count))
            {
                throw new InvalidOperationException($"Descriptor {fd} is already registered with this demultiplexer.");
            }

            if (_count == _entries.Length)
            {
                Array.Resize(ref _entries, _entries.Length * 2);
            }

            _entries[_count++] = new PollingRegistration { Fd = fd, Key = key, Interest = interest };
            if (interest != Interest.None)
            {
                ChangedLocked();
            }
        }
    }

    /// <summary>Registers the engine's waker (watched for reading) and wakes through it from now on.</summary>
    public void AttachWaker(EventFdWaker waker)
    {
        Register(waker.Fd, IDemultiplexer.WakeKey, Interest.Read);
        lock (_lock)
        {
            _waker = waker;
        }
    }

    public void SetInterest(int fd, Interest interest)
    {
        lock (_lock)
        {
            // An unknown descriptor was unregistered already (the emulation never changes interest
            // after that, but a stale call must not resurrect it).
            if (_indexByFd.TryGetValue(fd, out int index) && _entries[index].Interest != interest)
            {
                _entries[index].Interest = interest;
                ChangedLocked();
            }
        }
    }

    public void Unregister(int fd)
    {
        lock (_lock)
        {
            if (!_indexByFd.Remove(fd, out int index))
            {
                return;
            }

            Interest had = _entries[index].Interest;

            // Swap-remove keeps the table dense; order does not matter (fairness comes from the
            // rotating scan in the demultiplexers).
            int last = --_count;
            if (index != last)
            {
                _entries[index] = _entries[last];
                _indexByFd[_entries[index].Fd] = index;
            }

            _entries[last] = default;

            // The loop must drop the descriptor from its set before the caller closes it (select
            // fails the whole call with EBADF on a closed descriptor; poll reports POLLNVAL).
            if (had != Interest.None)
            {
                ChangedLocked();
            }
        }
    }

    /// <summary>
    /// Loop thread, before the syscall: marks the loop blocked and, when the table changed since
    /// <paramref name="snapshotVersion"/>, copies every registration that has interest into
    /// <paramref name="snapshot"/> (grown as needed, so the steady state allocates nothing).
    /// Returns the snapshot's length, or -1 when the caller's snapshot is still current.
    /// </summary>
    public int BeginWait(ref PollingRegistration[] snapshot, ref int snapshotVersion)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _waiting = true;
            _wakeWritten = false;
            if (snapshotVersion == _version)
            {
                return -1;
            }

            if (snapshot.Length < _count)
            {
                snapshot = new PollingRegistration[Math.Max(_count, snapshot.Length * 2)];
            }

            int n = 0;
            for (int i = 0; i < _count; i++)
            {
                if (_entries[i].Interest != Interest.None)
                {
                    snapshot[n++] = _entries[i];
                }
            }

            snapshotVersion = _version;
            return n;
        }
    }

    /// <summary>Loop thread, after the syscall: changes from now on are seen by the next snapshot.</summary>
    public void EndWait()
    {
        lock (_lock)
        {
            _waiting = false;
        }
    }

    /// <summary>Loop thread: true when the table changed since <paramref name="snapshotVersion"/>.</summary>
    public bool ChangedSince(int snapshotVersion)
    {
        lock (_lock)
        {
            return snapshotVersion != _version;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _waker = null;
        }
    }

    private void ChangedLocked()
    {
        _version++;
        if (!_waiting || _wakeWritten || _waker is null)
        {
            return;
        }

        // One wake per wait is enough: the eventfd stays readable until the engine drains it.
        _wakeWritten = true;
        _waker.Wake();
    }
}
