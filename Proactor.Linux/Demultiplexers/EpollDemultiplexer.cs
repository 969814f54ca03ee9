using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// epoll, edge-triggered: each socket is registered once with
/// <c>EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET</c> and never re-armed. The emulation keeps per-queue
/// sequence numbers so that an edge arriving while a submitter tries its syscall is not lost.
/// </summary>
[SupportedOSPlatform("linux")]
internal struct EpollDemultiplexer : IDemultiplexer
{
    private EpollCore _core;

    public EpollDemultiplexer(int maxEvents) => _core = new EpollCore(maxEvents);

    public static bool TracksInterest => false;

    public readonly string Name => "epoll-et";

    public readonly void Register(int fd, ulong key, Interest interest) =>
        _core.Control(Interop.Sys.EPOLL_CTL_ADD, fd, key,
            Interop.Sys.EPOLLIN | Interop.Sys.EPOLLOUT | Interop.Sys.EPOLLRDHUP | Interop.Sys.EPOLLET);

    public readonly void AttachWaker(EventFdWaker waker) =>
        _core.Control(Interop.Sys.EPOLL_CTL_ADD, waker.Fd, IDemultiplexer.WakeKey, Interop.Sys.EPOLLIN | Interop.Sys.EPOLLET);

    public readonly void SetInterest(int fd, ulong key, Interest previous, Interest interest)
    {
        // Edge-triggered registrations cover both directions for the socket's lifetime.
    }

    public readonly void Unregister(int fd, ulong key) => _core.Remove(fd);

    public readonly int Wait(Span<ReadyEvent> events, int timeoutMilliseconds) => _core.Wait(events, timeoutMilliseconds);

    public void Dispose() => _core.Dispose();
}

/// <summary>
/// epoll, level-triggered: a socket is watched only for the directions that have operations
/// queued, re-armed with <c>EPOLL_CTL_MOD</c> as queues fill and drain. A socket with nothing
/// queued is not in the interest list at all (<c>EPOLL_CTL_DEL</c>), as libuv does: epoll reports
/// EPOLLERR and EPOLLHUP whatever the mask, so an idle socket whose peer reset it would otherwise
/// be reported on every wait and spin the loop.
/// </summary>
[SupportedOSPlatform("linux")]
internal struct EpollLevelDemultiplexer : IDemultiplexer
{
    private EpollCore _core;

    public EpollLevelDemultiplexer(int maxEvents) => _core = new EpollCore(maxEvents);

    public static bool TracksInterest => true;

    public readonly string Name => "epoll-lt";

    public readonly void Register(int fd, ulong key, Interest interest)
    {
        if (interest != Interest.None)
        {
            _core.Control(Interop.Sys.EPOLL_CTL_ADD, fd, key, ToEvents(interest));
        }
    }

    public readonly void AttachWaker(EventFdWaker waker) =>
        _core.Control(Interop.Sys.EPOLL_CTL_ADD, waker.Fd, IDemultiplexer.WakeKey, Interop.Sys.EPOLLIN);

    public readonly void SetInterest(int fd, ulong key, Interest previous, Interest interest)
    {
        if (interest == Interest.None)
        {
            _core.Remove(fd);
        }
        else
        {
            _core.Control(previous == Interest.None ? Interop.Sys.EPOLL_CTL_ADD : Interop.Sys.EPOLL_CTL_MOD, fd, key, ToEvents(interest));
        }
    }

    public readonly void Unregister(int fd, ulong key) => _core.Remove(fd);

    public readonly int Wait(Span<ReadyEvent> events, int timeoutMilliseconds) => _core.Wait(events, timeoutMilliseconds);

    public void Dispose() => _core.Dispose();

    private static uint ToEvents(Interest interest) =>
        ((interest & Interest.Read) != 0 ? Interop.Sys.EPOLLIN | Interop.Sys.EPOLLRDHUP : 0) |
        ((interest & Interest.Write) != 0 ? Interop.Sys.EPOLLOUT : 0);
}

/// <summary>The epoll instance and its event buffer, shared by both trigger modes.</summary>
[SupportedOSPlatform("linux")]
internal unsafe struct EpollCore
{
    private readonly SafeFileDescriptorHandle _epoll;
    private readonly byte* _events;
    private readonly int _capacity;

    public EpollCore(int maxEvents)
    {
        _epoll = SafeFileDescriptorHandle.FromResult(Interop.Sys.EpollCreate1(Interop.Sys.EPOLL_CLOEXEC), "epoll_create1");
        _capacity = maxEvents;
        _events = (byte*)NativeMemory.AllocZeroed((nuint)(maxEvents * Interop.EpollEvent.Size));
    }

    // Control and Remove may run on any thread, also while the engine shuts down: a reference on
    // the epoll handle keeps its descriptor number from being closed (and reused) under the call.
    public readonly void Control(int op, int fd, ulong key, uint events)
    {
        Interop.EpollEvent ev = default;
        Interop.EpollEvent.Write((byte*)&ev, events, key);
        bool added = false;
        try
        {
            _epoll.DangerousAddRef(ref added);
            if (Interop.Sys.EpollCtl(_epoll.Fd, op, fd, &ev) != 0)
            {
                int errno = Interop.Errno.Last;
                throw new SocketException((int)Interop.Errno.ToSocketError(errno));
            }
        }
        finally
        {
            if (added)
            {
                _epoll.DangerousRelease();
            }
        }
    }

    public readonly void Remove(int fd)
    {
        bool added = false;
        try
        {
            _epoll.DangerousAddRef(ref added);

            // ENOENT/EBADF here mean the registration is already gone; nothing to undo.
            Interop.Sys.EpollCtl(_epoll.Fd, Interop.Sys.EPOLL_CTL_DEL, fd, null);
        }
        catch (ObjectDisposedException)
        {
            // The engine closed its epoll instance: every registration went with it.
        }
        finally
        {
            if (added)
            {
                _epoll.DangerousRelease();
            }
        }
    }

    public readonly int Wait(Span<ReadyEvent> events, int timeoutMilliseconds)
    {
        int max = Math.Min(events.Length, _capacity);
        int n = Interop.Sys.EpollWait(_epoll.Fd, (Interop.EpollEvent*)_events, max, timeoutMilliseconds);
        if (n < 0)
        {
            int errno = Interop.Errno.Last;
            if (errno == Interop.Errno.EINTR)
            {
                return 0;
            }

            throw new InvalidOperationException($"epoll_wait failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).");
        }

        int stride = Interop.EpollEvent.Size;
        for (int i = 0; i < n; i++)
        {
            byte* slot = _events + (i * stride);
            uint e = Interop.EpollEvent.ReadEvents(slot);
            Readiness r = Readiness.None;
            if ((e & (Interop.Sys.EPOLLIN | Interop.Sys.EPOLLRDHUP | Interop.Sys.EPOLLPRI)) != 0)
            {
                r |= Readiness.Read;
            }

            if ((e & Interop.Sys.EPOLLRDHUP) != 0)
            {
                r |= Readiness.PeerClosed;
            }

            if ((e & Interop.Sys.EPOLLOUT) != 0)
            {
                r |= Readiness.Write;
            }

            if ((e & (Interop.Sys.EPOLLERR | Interop.Sys.EPOLLHUP)) != 0)
            {
                r |= Readiness.ErrorOrHangup;
            }

            events[i] = new ReadyEvent { Key = Interop.EpollEvent.ReadData(slot), Readiness = r };
        }

        return n;
    }

    public readonly void Dispose()
    {
        _epoll?.Dispose();
        if (_events != null)
        {
            NativeMemory.Free(_events);
        }
    }
}
