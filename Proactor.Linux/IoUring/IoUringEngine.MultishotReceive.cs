using System;
using System.Net.Sockets;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// Multishot receive over the engine's provided buffer ring (see <see cref="IoUringSocket"/>'s
/// multishot part): a stream socket's receives wait on one long-lived RECV instead of an SQE each,
/// which spares the kernel arming a poll per message and the engine a submission per receive.
/// </summary>
internal sealed unsafe partial class IoUringEngine
{
    /// <summary>Buffers of the shared ring: enough for every socket of a busy engine to get one
    /// arrival between two reaps; an emptied ring only pauses the multishot receives (ENOBUFS).</summary>
    private const int BufferRingEntries = 128;

    /// <summary>Bytes per ring buffer: a larger arrival comes in several CQEs.</summary>
    private const int BufferRingBufferSize = 16 * 1024;

    /// <summary>The buffer ring's memory: what the kernel may fill before the ring thread reaps.</summary>
    internal const int BufferRingBytes = BufferRingEntries * BufferRingBufferSize;

    private IoUringBufferRing? _bufferRing;
    private bool _multishotReceive;
    private long _bufferRingExhaustions;

    /// <summary>Multishot receives the kernel ended because the buffer ring was empty (ENOBUFS);
    /// each was re-armed by the receive waiting on it.</summary>
    internal long BufferRingExhaustions => Volatile.Read(ref _bufferRingExhaustions);

    /// <summary>True while stream sockets receive through one multishot receive each (the default
    /// where the kernel has buffer rings, Linux 6.0); tests and benchmarks turn it off to run one
    /// SQE per receive (<c>PROACTOR_IORING_RECV_MULTISHOT=0</c> does so for a process). Read when
    /// a socket's first receive reaches the ring; a socket already in multishot mode stays so.</summary>
    internal bool MultishotReceive
    {
        get => Volatile.Read(ref _multishotReceive);
        set => Volatile.Write(ref _multishotReceive, value && _bufferRing is not null);
    }

    /// <summary>
    /// True while a zero-byte receive may put a stream socket into multishot mode, as a receive
    /// with a buffer does: by default with <see cref="CompletionDispatch.Inline"/> only
    /// (<c>PROACTOR_IORING_ZERO_BYTE_MULTISHOT=0</c> turns it off for a process, <c>=1</c> on
    /// whatever the dispatch, to compare); otherwise a zero-byte receive outside multishot mode
    /// waits with a single-shot receive into a ring buffer (<see cref="SingleShotZeroByteReceive"/>)
    /// or, without it, a poll SQE.
    /// </summary>
    /// <remarks>
    /// With inline dispatch the next receive is started on the ring thread before it waits again,
    /// so every arrival finds its receive waiting. When continuations run on other threads, an
    /// armed multishot receive wakes the ring thread for each arrival on its own, whether or not
    /// the receive for it was posted yet; a poll submitted with the posted receive finds the data
    /// already there as often as not and completes in the same io_uring_enter, batched (measured
    /// with the C ping-pong client at 8 and 64 connections: 2-3 times the enters and context
    /// switches per round trip in multishot mode).
    /// </remarks>
    internal bool MultishotZeroByteReceive { get; set; }

    /// <summary>
    /// True (the default) while a zero-byte receive that does not enter multishot mode
    /// (<see cref="MultishotZeroByteReceive"/> off: continuations on the pool) waits with a
    /// single-shot receive into a ring buffer instead of a poll: the arrival comes with the
    /// wait's completion and is held, so the receive that follows takes it without a recv(2) of
    /// its own. <c>PROACTOR_IORING_ZERO_BYTE_SINGLESHOT=0</c> turns it off for a process (to compare).
    /// </summary>
    /// <remarks>
    /// A single-shot request is armed only while a receive waits, submitted with the posted wait
    /// like the poll it replaces, so arrivals do not wake the ring thread on their own (the cost of
    /// an armed multishot receive described above); the kernel performs the receive where it would
    /// have reported readiness. Measured with the C ping-pong client (<c>eng/count-per-roundtrip.sh</c>,
    /// 64 B): 1.1-1.4 syscalls per round trip instead of 2.0-2.4, the same enters and context switches.
    /// </remarks>
    internal bool SingleShotZeroByteReceive { get; set; } =
        Environment.GetEnvironmentVariable("PROACTOR_IORING_ZERO_BYTE_SINGLESHOT") != "0";

    /// <summary>True (the default) while a receive posted from another thread that waits on its
    /// socket's armed multishot receive does not wake the ring thread; tests turn it off.</summary>
    internal bool QuietMultishotPosts { get; set; } = true;

    private long _quietPosts;

    /// <summary>Posts that did not wake the ring thread (see <see cref="QuietMultishotPosts"/>).</summary>
    internal long QuietPosts => Interlocked.Read(ref _quietPosts);

    /// <summary>Why multishot receive is off, when the kernel refused the buffer ring.</summary>
    internal string? MultishotReceiveUnavailableReason { get; private set; }

    /// <summary>Ring thread, at start (a SINGLE_ISSUER ring takes registrations from its issuer).</summary>
    private void SetUpBufferRing()
    {
        if (Environment.GetEnvironmentVariable("PROACTOR_IORING_RECV_MULTISHOT") == "0")
        {
            MultishotReceiveUnavailableReason = "turned off by PROACTOR_IORING_RECV_MULTISHOT=0";
            return;
        }

        int errno = IoUringBufferRing.TryCreate(_ring.Fd, BufferRingEntries, BufferRingBufferSize, out _bufferRing);
        if (errno != 0)
        {
            // Before Linux 5.19 (EINVAL): receives go one SQE each, as before.
            MultishotReceiveUnavailableReason = $"IORING_REGISTER_PBUF_RING failed with errno {errno}";
            return;
        }

        _multishotReceive = true;
    }

    /// <summary>Ring thread, from <see cref="Pump"/>: serves <paramref name="op"/> (the head of the
    /// receive side) from held data, or makes it the receive that waits on the multishot receive.
    /// False when the operation takes the one-SQE path.</summary>
    private bool PumpMultishotReceive(IoUringSocket socket, IoUringSocket.Direction direction, IoUringOperation op)
    {
        if (!socket.ReceiveMultishot)
        {
            // Entered by a plain receive, with a buffer or zero bytes (the wait of a server that
            // rents its buffer only when data is there): after a zero-byte receive the receive
            // that follows takes the held bytes without a syscall, where a poll would leave it a
            // recv(2) of its own, and the next wait needs no SQE. Other kinds keep their own path.
            bool singleShot = op.Buffer.Length == 0 && !MultishotZeroByteReceive;
            if (!_multishotReceive || !socket.IsStream || socket.BulkStream || op.Kind != OperationKind.Receive || op.IsMessage ||
                (singleShot && !SingleShotZeroByteReceive))
            {
                return false;
            }

            socket.EnterReceiveMultishot(singleShot);
        }
        else if (!IoUringSocket.IsServedByMultishot(op))
        {
            return false;
        }

        if (socket.BulkStream && !socket.MultishotArmed && socket.HeldBytes == 0 && !socket.HasHeldEvent)
        {
            socket.LeaveReceiveMultishot();
            return false;
        }

        direction.Dequeue();
        if (socket.TryTakeHeld(op))
        {
            FinishOperation(op);
            return true;
        }

        direction.Current = op;
        op.State = IoUringOperation.RingState.InFlight;
        op.WaitsForMultishot = true;
        op.UserData = 0;
        if (!socket.MultishotArmed)
        {
            ArmMultishotReceive(socket);
        }

        return true;
    }

    private void ArmMultishotReceive(IoUringSocket socket)
    {
        socket.MultishotArmed = true;
        socket.MultishotCancelSubmitted = false;
        socket.MultishotUserData = AllocateSlot(socket);
        socket.InFlight++;
        Interop.IoUringSqe* sqe = GetSqe();
        sqe->Opcode = Interop.Sys.IORING_OP_RECV;
        sqe->Flags = Interop.Sys.IOSQE_BUFFER_SELECT;
        sqe->IoPrio = socket.SingleShotArming ? (ushort)0 : Interop.Sys.IORING_RECV_MULTISHOT;
        sqe->Fd = socket.Fd;
        sqe->BufIndex = IoUringBufferRing.GroupId;
        sqe->UserData = socket.MultishotUserData;
    }

    /// <summary>Ring thread: a CQE of a socket's multishot receive.</summary>
    private void OnMultishotReceive(IoUringSocket socket, in Interop.IoUringCqe cqe)
    {
        bool more = (cqe.Flags & Interop.Sys.IORING_CQE_F_MORE) != 0;
        if (!more)
        {
            FreeSlot(socket.MultishotUserData);
            socket.MultishotArmed = false;
            socket.InFlight--;
        }

        int res = cqe.Res;
        if ((cqe.Flags & Interop.Sys.IORING_CQE_F_BUFFER) != 0)
        {
            ushort bid = (ushort)(cqe.Flags >> Interop.Sys.IORING_CQE_BUFFER_SHIFT);
            if (res > 0 && !socket.Closing)
            {
                socket.Hold(_bufferRing!.Data(bid, res));
            }

            _bufferRing!.Return(bid); // copied out: the kernel may fill it again at once
        }

        IoUringSocket.Direction direction = socket.ReceiveSide;
        if (!socket.Closing)
        {
            if (res == 0)
            {
                socket.HoldEnd();
            }
            else if (res < 0)
            {
                OnMultishotReceiveFailed(socket, direction, -res);
            }
            else if (more && !socket.MultishotCancelSubmitted &&
                (socket.HeldBytes >= IoUringSocket.MaxHeldBytes || res == _bufferRing!.BufferSize))
            {
                // Nobody receives: stop taking ahead (re-armed when a receive finds nothing held).
                // Or a bulk stream: it goes back to one SQE per receive.
                socket.BulkStream |= res == _bufferRing!.BufferSize;
                socket.MultishotCancelSubmitted = true;
                SubmitCancel(socket.MultishotUserData);
            }
            else if (res == _bufferRing!.BufferSize)
            {
                socket.BulkStream = true; // the last CQE of this multishot: it is not re-armed
            }

            if (direction.Current is { WaitsForMultishot: true } op)
            {
                if (socket.TryTakeHeld(op))
                {
                    op.WaitsForMultishot = false;
                    direction.Current = null;
                    FinishOperation(op); // an inline continuation may start the next receive: it finds the rest held
                }
                else if (!socket.MultishotArmed && socket.BulkStream)
                {
                    // Nothing held, nothing armed: the waiting receive goes to the kernel itself.
                    socket.LeaveReceiveMultishot();
                    op.WaitsForMultishot = false;
                    SubmitOperation(op);
                }
                else if (!socket.MultishotArmed && socket.ReceiveMultishot)
                {
                    ArmMultishotReceive(socket); // ended (no buffer, cancelled) with a receive still waiting
                }
            }
        }

        Settle(socket, direction);
    }

    private void OnMultishotReceiveFailed(IoUringSocket socket, IoUringSocket.Direction direction, int errno)
    {
        switch (errno)
        {
            case Interop.Errno.ENOBUFS: // the ring ran dry between reaps: re-armed by the waiting receive
                Volatile.Write(ref _bufferRingExhaustions, _bufferRingExhaustions + 1);
                return;
            case Interop.Errno.ECANCELED: // our take-ahead bound
            case Interop.Errno.EINTR:
            case Interop.Errno.EAGAIN:
                return;
            case Interop.Errno.EINVAL when socket.HeldBytes == 0 && !socket.MultishotArmed:
                // A kernel without multishot receive (before 6.0): this engine goes on one SQE per
                // receive; the waiting receive is submitted as such.
                _multishotReceive = false;
                socket.LeaveReceiveMultishot();
                if (direction.Current is { WaitsForMultishot: true } op)
                {
                    op.WaitsForMultishot = false;
                    SubmitOperation(op);
                }

                return;
            default:
                socket.HoldError(Interop.Errno.ToSocketError(errno));
                return;
        }
    }
}
