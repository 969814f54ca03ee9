using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// An operation of the emulated proactor: it knows how to try itself with one non-blocking
/// syscall (finished, or would block); the queue and the loop only decide when.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class EmulatedOperation : Operation
{
    private bool _connectStarted;

    /// <summary>
    /// Performs the operation's syscall on <paramref name="fd"/>. Returns true when the operation
    /// is finished (<see cref="Operation.BytesTransferred"/>/<see cref="Operation.Error"/> set),
    /// false when the socket would block. A send makes progress across calls and finishes only when
    /// every byte is written.
    /// </summary>
    public bool TryExecute(int fd)
    {
        switch (Kind)
        {
            case OperationKind.Receive:
                return NonBlockingIo.TryReceive(this, fd);
            case OperationKind.Send:
                return NonBlockingIo.TrySend(this, fd);
            case OperationKind.Accept:
                return TryAccept(fd);
            case OperationKind.Poll:
                return TryPoll(fd);
            default:
                return TryConnect(fd);
        }
    }

    /// <summary><see cref="TryExecute(int)"/> from a submitting thread (not the loop): the descriptor is
    /// kept alive by a reference on the handle, so a concurrent close cannot recycle it mid-call.</summary>
    public bool TryExecute(SafeHandle handle) => NonBlockingIo.TryWithReference(handle, this, &TryExecute);

    private static bool TryExecute(Operation op, int fd) => ((EmulatedOperation)op).TryExecute(fd);

    private bool TryAccept(int fd)
    {
        while (true)
        {
            // Non-blocking from the start: the connection runs on this bare descriptor (no runtime
            // Socket, whose handle would otherwise get an async context of its own).
            int client = Interop.Sys.Accept4(fd, null, null, Interop.Sys.SOCK_CLOEXEC | Interop.Sys.SOCK_NONBLOCK);
            if (client >= 0)
            {
                AcceptedDescriptor = new SafeFileDescriptorHandle(client);
                return true;
            }

            int errno = Interop.Errno.Last;
            switch (errno)
            {
                case Interop.Errno.EINTR:
                case Interop.Errno.ECONNABORTED: // the peer gave up while queued: take the next one
                    continue;
                case Interop.Errno.EAGAIN:
                    return false;
                default:
                    Error = Interop.Errno.ToSocketError(errno);
                    return true;
            }
        }
    }

    private bool TryConnect(int fd)
    {
        // The first call starts the connect; later calls (after readiness) ask the kernel for the
        // outcome by calling connect again: 0 or EISCONN once established, EALREADY while in
        // progress, or the connect's own error (ECONNREFUSED, ...). Unlike SO_ERROR alone, this
        // cannot mistake an early writable/hang-up report of an unconnected socket for success.
        SocketAddress address = Address!;
        int rc;
        fixed (byte* p = address.Buffer.Span)
        {
            rc = Interop.Sys.Connect(fd, p, (uint)address.Size);
        }

        bool started = _connectStarted;
        _connectStarted = true;
        if (rc == 0)
        {
            return true;
        }

        int errno = Interop.Errno.Last;
        switch (errno)
        {
            case Interop.Errno.EINPROGRESS:
            case Interop.Errno.EALREADY:
            case Interop.Errno.EINTR: // an interrupted connect goes on asynchronously
                return false;
            case Interop.Errno.EISCONN when started:
                return true;
            default:
                Error = Interop.Errno.ToSocketError(errno);
                return true;
        }
    }

    /// <summary>For a wait for the next report: its direction's report count, and the count when armed.</summary>
    public ReportCounter? Reports;

    public int ArmedAtReport;

    private bool TryPoll(int fd)
    {
        // Not before the demultiplexer reported the direction again: on epoll-et that is a new
        // edge, on the level-triggered sources the next wait that finds the socket still ready.
        if (WaitForNextReport && Reports!.Value == ArmedAtReport)
        {
            return false;
        }

        return ReadinessIo.TryPoll(this, fd);
    }

    /// <summary>Clears per-use state the base type does not know.</summary>
    public void ResetEmulationState()
    {
        QueueNext = null;
        _connectStarted = false;
    }
}
