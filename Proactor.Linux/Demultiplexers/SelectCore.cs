using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// The loop-thread side of <see cref="SelectDemultiplexer"/>: read and write fd_set templates,
/// rebuilt from the registration table only when it changed, and copied to the stack for each
/// call because select(2) overwrites the sets it is given with the result.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class SelectCore
{
    private PollingRegistration[] _snapshot = new PollingRegistration[64];
    private int _snapshotVersion = -1;
    private int _count;
    private Interop.FdSet _readTemplate;
    private Interop.FdSet _writeTemplate;
    private int _nfds;

    // Where the next scan of the results starts (see PollCore: no starvation when more descriptors
    // are ready than one wait may report).
    private int _cursor;

    public PollingTable Table { get; } = new();

    public int Wait(Span<ReadyEvent> events, int timeoutMilliseconds)
    {
        Interop.FdSet read;
        Interop.FdSet write;
        int ready;
        int errno = 0;
        try
        {
            int count = Table.BeginWait(ref _snapshot, ref _snapshotVersion);
            if (count >= 0)
            {
                Rebuild(count);
            }

            read = _readTemplate;
            write = _writeTemplate;
            Interop.TimeVal timeout = new()
            {
                Seconds = timeoutMilliseconds / 1000,
                Microseconds = timeoutMilliseconds % 1000 * 1000,
            };
            ready = Interop.Sys.Select(_nfds, &read, &write, null, timeoutMilliseconds < 0 ? null : &timeout);
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

            // EBADF: a descriptor in the sets was closed between the snapshot and the call. That is
            // legitimate only after it was unregistered, which moved the version: the next wait
            // takes a new snapshot without it. Otherwise a registered descriptor was closed under
            // us, and every further select would fail the same way.
            if (errno == Interop.Errno.EBADF && Table.ChangedSince(_snapshotVersion))
            {
                return 0;
            }

            throw new InvalidOperationException($"select failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).");
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

            int fd = _snapshot[i].Fd;
            Readiness r = (read.Contains(fd) ? Readiness.Read : Readiness.None) |
                          (write.Contains(fd) ? Readiness.Write : Readiness.None);
            if (r == Readiness.None)
            {
                continue;
            }

            if (n == events.Length)
            {
                _cursor = i;
                break;
            }

            // select counts each set bit, so a descriptor ready both ways counts twice. (An error or
            // hang-up shows as readable or writable, and the next syscall on that side reports it.)
            ready -= (r & Readiness.Read) != 0 && (r & Readiness.Write) != 0 ? 2 : 1;
            events[n++] = new ReadyEvent { Key = _snapshot[i].Key, Readiness = r };
        }

        return n;
    }

    public void Dispose() => Table.Dispose();

    private void Rebuild(int count)
    {
        _readTemplate.Clear();
        _writeTemplate.Clear();
        int maxFd = -1;
        for (int i = 0; i < count; i++)
        {
            ref PollingRegistration r = ref _snapshot[i];

            // SelectDemultiplexer.Register refused every descriptor outside the set.
            if ((r.Interest & Interest.Read) != 0)
            {
                _readTemplate.Add(r.Fd);
            }

            if ((r.Interest & Interest.Write) != 0)
            {
                _writeTemplate.Add(r.Fd);
            }

            maxFd = Math.Max(maxFd, r.Fd);
        }

        _count = count;
        _nfds = maxFd + 1;
    }
}
