using System;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// select(2), level-triggered, for comparison and for old habits: like
/// <see cref="PollDemultiplexer"/>, but limited to descriptors below FD_SETSIZE (1024). A socket
/// with a higher descriptor is refused at registration with a clear error; an fd_set has no room
/// for it, and setting its bit anyway would write past the set.
/// </summary>
[SupportedOSPlatform("linux")]
internal readonly struct SelectDemultiplexer : IDemultiplexer
{
    private readonly SelectCore _core;

    public SelectDemultiplexer() => _core = new SelectCore();

    public static bool TracksInterest => true;

    public string Name => "select";

    public void Register(int fd, ulong key, Interest interest)
    {
        if ((uint)fd >= Interop.Sys.FD_SETSIZE)
        {
            ThrowBeyondFdSetSize(fd);
        }

        _core.Table.Register(fd, key, interest);
    }

    public void AttachWaker(EventFdWaker waker)
    {
        if ((uint)waker.Fd >= Interop.Sys.FD_SETSIZE)
        {
            ThrowBeyondFdSetSize(waker.Fd);
        }

        _core.Table.AttachWaker(waker);
    }

    public void SetInterest(int fd, ulong key, Interest previous, Interest interest) => _core.Table.SetInterest(fd, interest);

    public void Unregister(int fd, ulong key) => _core.Table.Unregister(fd);

    public int Wait(Span<ReadyEvent> events, int timeoutMilliseconds) => _core.Wait(events, timeoutMilliseconds);

    public void Dispose() => _core?.Dispose();

    // A SocketException (TooManyOpenSockets, as for EMFILE) rather than another type: it is what the
    // public boundary promises, and what the accept path turns into a failed accept instead of an
    // exception on the loop thread.
    [DoesNotReturn]
    private static void ThrowBeyondFdSetSize(int fd) =>
        throw new SocketException(
            (int)SocketError.TooManyOpenSockets,
            $"The select backend cannot watch descriptor {fd}: select(2) handles only descriptors below " +
            $"FD_SETSIZE ({Interop.Sys.FD_SETSIZE}), and this process already holds that many. " +
            "Use BackendKind.Epoll (or BackendKind.Poll), which have no such limit.");
}
