using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// One socket of the io_uring proactor. Its state lives on the ring thread: two directions
/// (receive side: receives and accepts; send side: sends and connects), each a FIFO of waiting
/// operations with at most one SQE in flight, which is what keeps completions per direction in
/// submission order and a later send from starting before an earlier one wrote its last byte.
/// </summary>
/// <remarks>
/// Start, Cancel and Close only post to the ring thread. An in-flight io_uring request holds its
/// own reference to the file, so closing the descriptor would not end it: Close cancels in-flight
/// requests explicitly, and the descriptor (and every buffer pin) is released only after the
/// last CQE that could touch it was reaped.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed partial class IoUringSocket : LinuxEngineSocket
{
    private int _closeRequested;
    private bool _handleAdded;

    public IoUringSocket(IoUringEngine engine, Socket socket)
        : base(engine, socket)
    {
        Fd = AddDescriptorReference();
    }

    /// <summary>An accepted connection on its bare descriptor.</summary>
    public IoUringSocket(IoUringEngine engine, SafeHandle descriptor, AddressFamily addressFamily)
        : base(engine, descriptor, addressFamily)
    {
        Fd = AddDescriptorReference();
    }

    /// <summary>The engine, as its own type: the base's reference, not a second one per socket.</summary>
    private IoUringEngine RingEngine => Unsafe.As<IoUringEngine>(Engine);

    private int AddDescriptorReference()
    {
        // The reference keeps the descriptor number from being closed (and reused by another
        // open) while SQEs name it; it is dropped only after the last CQE of this socket.
        Handle.DangerousAddRef(ref _handleAdded);
        return (int)Handle.DangerousGetHandle();
    }

    public int Fd { get; }

    /// <summary>A byte stream (TCP, Unix stream): what a multishot receive may serve.</summary>
    public bool IsStream => SocketType == SocketType.Stream;

    /// <summary>The key of the engine's socket table (set once at registration).</summary>
    public ulong Key { get; set; }

    /// <summary>Link in the engine's stack of close requests.</summary>
    public IoUringSocket? NextClose;

    // Ring thread only from here on.
    public readonly Direction ReceiveSide = new();
    public readonly Direction SendSide = new();

    /// <summary>SQEs that name this descriptor and whose final CQE has not been reaped.</summary>
    public int InFlight;

    /// <summary>Close was processed: nothing new is submitted; the end waits for <see cref="InFlight"/> to drain.</summary>
    public bool Closing;

    /// <summary>The descriptor was released.</summary>
    public bool Finished;

    /// <summary>The multishot request of the socket (a listener's accept or a stream's receive), while armed.</summary>
    public bool MultishotArmed;

    public ulong MultishotUserData;

    public bool MultishotCancelSubmitted;

    /// <summary>The kernel refused a multishot accept on this listener (EINVAL: a kernel before
    /// 5.19, or a listener shut down): its accepts go one SQE each.</summary>
    public bool MultishotRefused;

    /// <summary>Connections the multishot accept took before any accept operation asked for them.</summary>
    public Queue<int>? AcceptedBacklog;

    public override Operation CreateOperation() => new IoUringOperation();

    /// <summary>Start sets <see cref="IoUringOperation.Socket"/> and counts a new use, which tells a
    /// late cancel of an earlier use apart, whichever socket that use was on.</summary>
    public override bool SharesOperations => true;

    /// <summary>
    /// Any thread. A receive or send started off the ring thread (a send also on it, see
    /// <see cref="ShouldTryNow"/>) that finds its direction idle is first tried at once with one
    /// non-blocking syscall on the caller's thread, as the emulated engines do
    /// (<see cref="EngineOptions.IoUringTryBeforeSubmit"/>): a send that
    /// fits the socket buffer, or a receive whose data is already there, then completes
    /// synchronously without two trips through the ring thread. Only what would block becomes an
    /// SQE. Everything else (accept, connect, a direction with work queued or in flight) is
    /// posted to the ring thread.
    /// </summary>
    /// <remarks>
    /// Each direction counts its operations from start to finish; the try happens only when that
    /// count was zero (or, on the ring thread, counts only the operation whose inline continuation
    /// is running, already delivered), so nothing of the direction is queued or in the kernel, and
    /// per-direction order holds. The direction's gate is held from the count to the post, so a start that
    /// overlaps a try (another thread) is posted after the tried one, never between the halves
    /// of a short send.
    /// </remarks>
    public override bool Start(Operation operation)
    {
        var op = (IoUringOperation)operation;
        op.Socket = this;
        op.Use++;
        Gate gate = GateOf(op);
        lock (gate)
        {
            bool posted = false;
            int outstanding = Interlocked.Increment(ref gate.Outstanding);
            try
            {
                // Receives only: a readiness wait's owner may expect its report from the loop.
                // Nothing may be queued ahead; the one receive allowed besides this one is the
                // receive whose inline continuation is running right here, already delivered.
                bool onRingThread = RingEngine.IsEngineThread;
                bool directionIdle = outstanding == 1 || (outstanding == 2 && gate.CompletingInline && onRingThread);
                if (directionIdle &&
                    _receiveMultishot && op.Kind == OperationKind.Receive && IsServedByMultishot(op) &&
                    Volatile.Read(ref _closeRequested) == 0 && TryTakeHeld(op))
                {
                    return false; // what the multishot receive took ahead: no SQE, no syscall
                }

                if (directionIdle && ShouldTryNow(op, onRingThread))
                {
                    bool finished;
                    unsafe
                    {
                        finished = NonBlockingIo.TryWithReference(Handle, op, &NonBlockingIo.TryTransfer);
                    }

                    RingEngine.CountDirectTry(finished);
                    if (finished)
                    {
                        if (op.Kind == OperationKind.Receive && IsStream && !op.IsMessage && op.Error == SocketError.Success &&
                            op.BytesTransferred < op.Buffer.Length && RingEngine.ShortReceiveEmpties && Backlog.Left == 0)
                        {
                            // Fewer bytes than asked for: the socket was very likely emptied. A
                            // request-response peer answers only after our reply, so the next
                            // receive (often the zero-byte wait of a server) goes to the ring at
                            // once instead of failing a syscall first.
                            ReceiveMayBeReady = false;
                        }

                        return false;
                    }

                    if (op.Kind == OperationKind.Receive)
                    {
                        ReceiveMayBeReady = false; // it would block: until the ring sees more data, go there at once
                    }
                }

                if (op.Kind == OperationKind.Receive)
                {
                    Backlog.Forget(); // the ring takes bytes without counting what it leaves
                }

                // Here, not on the ring thread: a buffer whose Pin throws fails this start, and
                // the exception reaches the caller instead of ending the ring thread.
                op.PinBuffer();
                bool quiet = directionIdle && _receiveMultishot && op.Kind == OperationKind.Receive && IsServedByMultishot(op);
                if (RingEngine.Post(op, quiet))
                {
                    posted = true;
                    return true;
                }

                // The engine has ended: the operation completed synchronously, aborted; the
                // kernel never saw the buffer.
                op.Unpin();
                return false;
            }
            finally
            {
                // Whatever ends the start here (finished at once, engine ended, a buffer that
                // threw) leaves nothing of the direction outstanding; a count left raised would
                // turn direct tries off for this socket for good.
                if (!posted)
                {
                    Interlocked.Decrement(ref gate.Outstanding);
                }
            }
        }
    }

    /// <summary>
    /// Receives are tried at once until one would block; after that, only once a receive the ring
    /// completed says more data waits (<c>IORING_CQE_F_SOCK_NONEMPTY</c>; a kernel too old to say
    /// so keeps receives on the ring). A request-response peer thus costs no failed syscall per
    /// message, and a stream no thread hop.
    /// </summary>
    public bool ReceiveMayBeReady = true;

    /// <summary>
    /// Whether <paramref name="op"/> is tried with one syscall before it becomes an SQE.
    /// </summary>
    /// <remarks>
    /// On the ring thread (an inline continuation) a send is tried too
    /// (<see cref="IoUringEngine.DirectSendOnRingThread"/>): a small write nearly always fits the
    /// socket buffer, and one send(2) there costs less than an SQE whose CQE the next enter
    /// returns at once (it cannot wait for other work while that CQE is due), a second pass of the
    /// loop and an asynchronous resumption of the caller. A receive only while the kernel said
    /// bytes are left (<see cref="LinuxEngineSocket.Backlog"/>: a stream), where the try cannot
    /// fail; otherwise the multishot receive or an SQE in the next enter's batch serves it without
    /// a syscall that may fail.
    /// </remarks>
    private bool ShouldTryNow(IoUringOperation op, bool onRingThread) =>
        RingEngine.TryBeforeSubmit &&
        Volatile.Read(ref _closeRequested) == 0 &&
        op.Kind switch
        {
            OperationKind.Send => !onRingThread || RingEngine.DirectSendOnRingThread,
            OperationKind.Receive => !_receiveMultishot && (onRingThread ? Backlog.Left > 0 : ReceiveMayBeReady),
            _ => false,
        };

    // A direction is its own gate: no separate object per direction and connection.
    private Gate GateOf(OperationKind kind) =>
        kind is OperationKind.Receive or OperationKind.Accept ? ReceiveSide : SendSide;

    /// <summary>The count of <paramref name="op"/>'s direction; taken before the operation
    /// completes (after that the pooled object may already serve another start).</summary>
    public Gate GateOf(IoUringOperation op) => IsReceiveSide(op) ? ReceiveSide : SendSide;

    /// <summary>Ring thread: an operation of <paramref name="gate"/>'s direction, started through
    /// <see cref="Start"/>, has finished and its completion was delivered. Only after the delivery:
    /// a start on another thread that saw the count at zero could otherwise try at once and deliver
    /// its completion (later bytes) ahead of this one.</summary>
    public static void OnFinished(Gate gate) => Interlocked.Decrement(ref gate.Outstanding);

    /// <summary>One direction's count of operations between start and finish; its monitor
    /// orders starters. The base of the direction's <see cref="Direction"/>.</summary>
    internal class Gate
    {
        public int Outstanding;

        /// <summary>Ring thread: an operation of the direction is delivering its completion
        /// inline (its continuation runs on the ring thread, inside <c>Complete</c>).</summary>
        public bool CompletingInline;
    }

    public override void Cancel(Operation operation) => RingEngine.PostCancel((IoUringOperation)operation);

    public override void Close()
    {
        if (!TryMarkCloseRequested())
        {
            return;
        }

        RingEngine.PostClose(this);
    }

    /// <summary>True for the first close request (user or engine shutdown).</summary>
    public bool TryMarkCloseRequested() => Interlocked.Exchange(ref _closeRequested, 1) == 0;

    /// <summary>Ring thread: releases the descriptor, once nothing in the kernel refers to it.</summary>
    /// <remarks>
    /// With <c>SO_LINGER</c> on and a linger time, close(2) blocks until the unsent data is
    /// acknowledged or the time runs out, also on a non-blocking socket: on the ring thread that
    /// would stall every other socket of the engine for up to the linger time. Such a close runs
    /// on the thread pool; any other close cannot block and stays here, so the descriptor is gone
    /// when the last completion was delivered.
    /// </remarks>
    public void ReleaseDescriptor()
    {
        Finished = true;
        if (LingersOnClose())
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.CloseDescriptor(), this, preferLocal: false);
        }
        else
        {
            CloseDescriptor();
        }
    }

    private unsafe bool LingersOnClose()
    {
        if (!_handleAdded)
        {
            return false; // not ours to inspect; the caller disposes the socket
        }

        // struct linger { int l_onoff; int l_linger; }
        int* linger = stackalloc int[2];
        uint length = sizeof(int) * 2;
        return Interop.Sys.GetSockOpt(Fd, Interop.Sys.SOL_SOCKET, Interop.Sys.SO_LINGER, linger, &length) == 0
            && linger[0] != 0 && linger[1] > 0;
    }

    private void CloseDescriptor()
    {
        if (_handleAdded)
        {
            _handleAdded = false;
            Handle.DangerousRelease();
        }

        DisposeDescriptor();
    }

    public Direction DirectionOf(OperationKind kind) =>
        kind is OperationKind.Receive or OperationKind.Accept ? ReceiveSide : SendSide;

    /// <summary>As <see cref="DirectionOf(OperationKind)"/>; a readiness wait goes where its event is
    /// (a writable wait with the sends), so a reactor's read and write waits are in flight together.</summary>
    public Direction DirectionOf(IoUringOperation op) => IsReceiveSide(op) ? ReceiveSide : SendSide;

    private static bool IsReceiveSide(IoUringOperation op) =>
        op.Kind is OperationKind.Receive or OperationKind.Accept ||
        (op.Kind == OperationKind.Poll && (op.RequestedEvents & SocketEvents.Writable) == 0);

    public override string? ReadinessUnsupportedReason => null;

    public override bool TryReceive(Span<byte> buffer, out int received, out SocketError error)
    {
        Backlog.Forget(); // a reactor's receive takes bytes without counting what it leaves
        return (_receiveMultishot && TryReceiveHeld(buffer, out received, out error)) ||
            ReadinessIo.TryReceive(Handle, buffer, out received, out error);
    }

    public override bool TrySend(ReadOnlySpan<byte> buffer, out int sent, out SocketError error) =>
        ReadinessIo.TrySend(Handle, buffer, out sent, out error);

    /// <summary>One direction of a socket: waiting operations (the FIFO every backend shares), and
    /// the one in flight. Touched by the ring thread only.</summary>
    internal sealed class Direction : Gate
    {
        private OperationFifo<IoUringOperation> _waiting;

        public IoUringOperation? Current;

        public IoUringOperation? Head => _waiting.Head;

        public void Enqueue(IoUringOperation op) => _waiting.Append(op);

        public IoUringOperation? Dequeue() => _waiting.IsEmpty ? null : _waiting.RemoveHead();

        public bool Remove(IoUringOperation op) => _waiting.TryRemove(op);
    }
}
