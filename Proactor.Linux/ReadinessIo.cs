using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// The Reactor's syscalls on Linux, shared by every engine there: a zero-timeout <c>poll</c> that
/// asks whether a socket is ready now, and the handler's own non-blocking receive and send
/// (<c>MSG_DONTWAIT</c>, so they never block on io_uring's blocking descriptors either).
/// </summary>
[SupportedOSPlatform("linux")]
internal static unsafe class ReadinessIo
{
    /// <summary>
    /// Looks at <paramref name="fd"/> once for <see cref="Operation.RequestedEvents"/>. True when
    /// something is ready (the events in <see cref="Operation.BytesTransferred"/>) or the look
    /// failed (<see cref="Operation.Error"/>); false when nothing is.
    /// </summary>
    public static bool TryPoll(Operation op, int fd)
    {
        var pfd = new Interop.PollFd { Fd = fd, Events = ToPollEvents(op.RequestedEvents) };
        int rc;
        do
        {
            rc = Interop.Sys.Poll(&pfd, 1, 0);
        }
        while (rc < 0 && Interop.Errno.Last == Interop.Errno.EINTR);

        if (rc < 0)
        {
            op.Error = Interop.Errno.ToSocketError(Interop.Errno.Last);
            return true;
        }

        SocketEvents ready = FromPollEvents(pfd.REvents, op.RequestedEvents);
        if (rc == 0 || ready == SocketEvents.None)
        {
            return false;
        }

        op.BytesTransferred = (int)ready;
        return true;
    }

    public static short ToPollEvents(SocketEvents events)
    {
        int mask = 0;
        if ((events & SocketEvents.Readable) != 0)
        {
            mask |= Interop.Sys.POLLIN | Interop.Sys.POLLRDHUP;
        }

        if ((events & SocketEvents.Writable) != 0)
        {
            mask |= Interop.Sys.POLLOUT;
        }

        return (short)mask; // POLLERR and POLLHUP are always reported
    }

    public static SocketEvents FromPollEvents(int revents, SocketEvents requested)
    {
        SocketEvents ready = SocketEvents.None;
        if ((revents & Interop.Sys.POLLIN) != 0)
        {
            ready |= SocketEvents.Readable;
        }

        if ((revents & Interop.Sys.POLLOUT) != 0)
        {
            ready |= SocketEvents.Writable;
        }

        if ((revents & (Interop.Sys.POLLHUP | Interop.Sys.POLLRDHUP)) != 0)
        {
            ready |= SocketEvents.HangUp;
        }

        if ((revents & (Interop.Sys.POLLERR | Interop.Sys.POLLNVAL)) != 0)
        {
            ready |= SocketEvents.Error;
        }

        if ((ready & (SocketEvents.HangUp | SocketEvents.Error)) != 0)
        {
            // Poll may say POLLHUP or POLLERR alone (a reset or torn-down connection); the contract
            // of SocketEvents is that they come with the direction waited for, whose next call
            // then reports what happened instead of blocking.
            ready |= requested & (SocketEvents.Readable | SocketEvents.Writable);
        }

        return ready;
    }

    public static bool TryReceive(SafeHandle handle, Span<byte> buffer, out int received, out SocketError error)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            nint n;
            fixed (byte* p = buffer)
            {
                do
                {
                    n = Interop.Sys.Recv(fd, p, (nuint)buffer.Length, Interop.Sys.MSG_DONTWAIT);
                }
                while (n < 0 && Interop.Errno.Last == Interop.Errno.EINTR);
            }

            return Finish(n, out received, out error);
        }
        catch (ObjectDisposedException)
        {
            received = 0;
            error = SocketError.OperationAborted; // closed by another thread meanwhile
            return true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    public static bool TrySend(SafeHandle handle, ReadOnlySpan<byte> buffer, out int sent, out SocketError error)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            nint n;
            fixed (byte* p = buffer)
            {
                do
                {
                    n = Interop.Sys.Send(fd, p, (nuint)buffer.Length, Interop.Sys.MSG_NOSIGNAL | Interop.Sys.MSG_DONTWAIT);
                }
                while (n < 0 && Interop.Errno.Last == Interop.Errno.EINTR);
            }

            return Finish(n, out sent, out error);
        }
        catch (ObjectDisposedException)
        {
            sent = 0;
            error = SocketError.OperationAborted;
            return true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static bool Finish(nint n, out int bytes, out SocketError error)
    {
        if (n >= 0)
        {
            bytes = (int)n;
            error = SocketError.Success;
            return true;
        }

        bytes = 0;
        int errno = Interop.Errno.Last;
        if (errno == Interop.Errno.EAGAIN)
        {
            error = SocketError.WouldBlock;
            return false;
        }

        error = Interop.Errno.ToSocketError(errno);
        return true;
    }
}
