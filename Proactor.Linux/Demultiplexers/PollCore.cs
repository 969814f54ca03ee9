using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// The loop-thread side of <see cref="PollDemultiplexer"/>: the pollfd array, rebuilt from the
/// registration table only when the table changed, and kept in native memory so the kernel never
/// writes into a managed array that would have to stay pinned for the whole (possibly long) wait.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class PollCore
{
    private PollingRegistration[] _snapshot = new PollingRegistration[64];
    private int _snapshotVersion = -1;
    private int _count;
    private Interop.PollFd* _fds;
    private int _capacity;

    // Where the next scan of the results starts: when more descriptors are ready than one wait may
    // report, the rest come first next time, so a few busy sockets cannot starve the others.
    private int _cursor;

    public PollingTable Table { get; } = new();

    public int Wait(Span<ReadyEvent> events, int timeoutMilliseconds)
    {
        int ready;
        int errno = 0;
        try
        {
            int count = Table.BeginWait(ref _snapshot, ref _snapshotVersion);
            if (count >= 0)
            {
                Rebuild(count);
            }

            ready = Interop.Sys.Poll(_fds, (nuint)_count, timeoutMilliseconds);
            if (ready < 0)
            {
                errno = Interop.Errno.Last;
            }
        }
        finally
        {
            Table.EndWait();
        }

        if (ready < 0)
        {
            if (errno == Interop.Errno.EINTR)
            {
                return 0; // the loop calls again, with a fresh timeout
            }

            throw new InvalidOperationException($"poll failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).");
        }

        int n = 0;
        int start = _cursor < _count ? _cursor : 0;
        for (int j = 0; j < _count && ready > 0; j++)
        {
            int i = start + j;
            if (i >= _count)
            {
                i -= _count;
            }

            short revents = _fds[i].REvents;
            if (revents == 0)
            {
                continue;
            }

            if (n == events.Length)
            {
                _cursor = i;
                break;
            }

            ready--;
            events[n++] = new ReadyEvent { Key = _snapshot[i].Key, Readiness = ToReadiness(revents) };
        }

        return n;
    }

    public void Dispose()
    {
        Table.Dispose();
        if (_fds != null)
        {
            NativeMemory.Free(_fds);
            _fds = null;
        }
    }

    private void Rebuild(int count)
    {
        if (count > _capacity)
        {
            int capacity = Math.Max(count, Math.Max(64, _capacity * 2));
            _fds = (Interop.PollFd*)NativeMemory.Realloc(_fds, (nuint)(capacity * sizeof(Interop.PollFd)));
            _capacity = capacity;
        }

        for (int i = 0; i < count; i++)
        {
            ref PollingRegistration r = ref _snapshot[i];
            _fds[i] = new Interop.PollFd { Fd = r.Fd, Events = ToEvents(r.Interest) };
        }

        _count = count;
    }

    private static short ToEvents(Interest interest) =>
        (short)(((interest & Interest.Read) != 0 ? Interop.Sys.POLLIN | Interop.Sys.POLLRDHUP : 0) |
                ((interest & Interest.Write) != 0 ? Interop.Sys.POLLOUT : 0));

    private static Readiness ToReadiness(short revents)
    {
        Readiness r = Readiness.None;
        if ((revents & (Interop.Sys.POLLIN | Interop.Sys.POLLRDHUP | Interop.Sys.POLLPRI)) != 0)
        {
            r |= Readiness.Read;
        }

        if ((revents & Interop.Sys.POLLRDHUP) != 0)
        {
            r |= Readiness.PeerClosed;
        }

        if ((revents & Interop.Sys.POLLOUT) != 0)
        {
            r |= Readiness.Write;
        }

        // POLLNVAL: a descriptor closed after the snapshot was taken; its key is stale by then and
        // the engine finds nothing under it, and the table change that preceded the close makes the
        // next wait drop it from the set.
        if ((revents & (Interop.Sys.POLLERR | Interop.Sys.POLLHUP | Interop.Sys.POLLNVAL)) != 0)
        {
            r |= Readiness.ErrorOrHangup;
        }

        return r;
    }
}
