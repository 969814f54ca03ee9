using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// The non-blocking receive and send every Linux engine performs itself: the emulated proactor
/// after readiness (or at once, when nothing is queued ahead), io_uring at once before it falls
/// back to an SQE. Each returns true when the operation is finished
/// (<see cref="Operation.BytesTransferred"/>/<see cref="Operation.Error"/> set), false when the
/// socket would block; a send makes progress across calls and finishes only when every byte is
/// written. Every call passes <c>MSG_DONTWAIT</c>: the emulated engines' sockets are
/// non-blocking anyway, io_uring's are not (the ring needs no <c>O_NONBLOCK</c>).
/// </summary>
[SupportedOSPlatform("linux")]
internal static unsafe class NonBlockingIo
{
    /// <summary>Runs <paramref name="attempt"/> from a thread that holds no engine lock: a reference
    /// on the handle keeps a concurrent close from recycling the descriptor mid-call.</summary>
    public static bool TryWithReference(SafeHandle handle, Operation op, delegate* managed<Operation, int, bool> attempt)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return attempt(op, (int)handle.DangerousGetHandle());
        }
        catch (ObjectDisposedException)
        {
            op.Error = SocketError.OperationAborted;
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

    /// <summary>A receive or a send (the only kinds it accepts).</summary>
    public static bool TryTransfer(Operation op, int fd) =>
        op.Kind == OperationKind.Receive ? TryReceive(op, fd) : TrySend(op, fd);

    public static bool TryReceive(Operation op, int fd)
    {
        LinuxEngineSocket? socket = op.Owner?.EngineSocket as LinuxEngineSocket;
        if (op.IsMessage)
        {
            if (socket is not null)
            {
                socket.Backlog.Forget(); // it may take bytes the count was of
            }

            return MessageIo.TryReceive(op, fd);
        }

        Span<byte> span = op.Buffer.Span;
        nint n;
        if (span.IsEmpty)
        {
            if (socket is { Backlog.Left: > 0 })
            {
                socket.Backlog.WaitsAnswered++;
                return Finish(op, 0); // the last receive left bytes in the kernel: ready, no syscall
            }

            // A zero-byte receive waits for readability without a buffer: peek one byte.
            byte probe;
            do
            {
                n = Interop.Sys.Recv(fd, &probe, 1, Interop.Sys.MSG_PEEK | Interop.Sys.MSG_DONTWAIT);
            }
            while (n < 0 && Interop.Errno.Last == Interop.Errno.EINTR);

            return Finish(op, n < 0 ? n : 0);
        }

        fixed (byte* p = span)
        {
            if (socket is { Backlog.IsReporting: true })
            {
                do
                {
                    n = socket.Backlog.Receive(fd, p, (nuint)span.Length, Interop.Sys.MSG_DONTWAIT);
                }
                while (n < 0 && Interop.Errno.Last == Interop.Errno.EINTR);
            }
            else
            {
                do
                {
                    n = Interop.Sys.Recv(fd, p, (nuint)span.Length, Interop.Sys.MSG_DONTWAIT);
                }
                while (n < 0 && Interop.Errno.Last == Interop.Errno.EINTR);

                if (socket is not null && n == span.Length && !socket.Backlog.IsReporting)
                {
                    // A full buffer: more may wait, and from now on the receives say so.
                    socket.Backlog.StartReporting(fd, socket.AddressFamily, socket.SocketType);
                }
            }
        }

        return Finish(op, n);
    }

    public static bool TrySend(Operation op, int fd)
    {
        if (op.IsMessage)
        {
            return MessageIo.TrySend(op, fd);
        }

        if (op.SendFileHandle is not null)
        {
            return FileIo.TrySendFile(op, fd);
        }

        ReadOnlySpan<byte> span = op.Buffer.Span;
        fixed (byte* p = span)
        {
            // At least one send(2), also for an empty buffer: as with System.Net.Sockets, a
            // zero-length send on a socket shut down or reset reports that error.
            while (true)
            {
                nint n = Interop.Sys.Send(fd, p + op.BytesTransferred, (nuint)(span.Length - op.BytesTransferred), Interop.Sys.MSG_NOSIGNAL | Interop.Sys.MSG_DONTWAIT);
                if (n >= 0)
                {
                    op.BytesTransferred += (int)n;
                    if (op.BytesTransferred >= span.Length)
                    {
                        return true;
                    }

                    continue;
                }

                int errno = Interop.Errno.Last;
                if (errno == Interop.Errno.EINTR)
                {
                    continue;
                }

                if (errno == Interop.Errno.EAGAIN)
                {
                    return false;
                }

                op.Error = Interop.Errno.ToSocketError(errno);
                return true;
            }
        }
    }

    private static bool Finish(Operation op, nint n)
    {
        if (n >= 0)
        {
            op.BytesTransferred = (int)n;
            return true;
        }

        int errno = Interop.Errno.Last;
        if (errno == Interop.Errno.EAGAIN)
        {
            return false;
        }

        op.Error = Interop.Errno.ToSocketError(errno);
        return true;
    }
}
