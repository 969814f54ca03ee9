using System;
using System.Net.Sockets;
using System.Threading;

namespace Proactor.Linux;

internal sealed unsafe partial class IoUringEngine
{
    /// <summary>user_data of CQEs nobody waits for (the results of cancel requests).</summary>
    private const ulong IgnoreUserData = 0;

    /// <summary>user_data of the eventfd read that wakes the ring thread.</summary>
    private const ulong WakeUserData = 1;

    // Native scratch memory of the ring thread: the kernel writes the wake-up read's 8 bytes at
    // offset 0 while the read is in flight, and reads the wait's timespec (8) and
    // io_uring_getevents_arg (24) during io_uring_enter. Native, so no GC pin is needed.
    private const int ScratchSize = 64;
    private const int ScratchWake = 0;
    private const int ScratchTimespec = 8;
    private const int ScratchGeteventsArg = 24;
    private readonly byte* _scratch;

    // Commands posted from any thread, each an intrusive Treiber stack (push by CAS, the ring
    // thread takes the whole stack at once and reverses it): posting allocates nothing.
    private IoUringOperation? _postedHead;
    private IoUringOperation? _cancelHead;
    private IoUringSocket? _closeHead;

    private volatile bool _terminated;
    private bool _multishotAccept = true;
    private bool _wakeArmed;
    private bool _wakeDisarmed;

    // The ring thread's table of requests in flight: user_data = generation << 32 | slot, so a
    // cancel aimed at a request that already finished can never hit the slot's next request.
    private object?[] _slots = null!;
    private uint[] _slotGenerations = null!;
    private int[] _freeSlots = null!;
    private int _freeSlotCount;
    private int _slotsUsed;
    private int _liveSlots;

    private void InitializeSlots()
    {
        _slots = new object?[256];
        _slotGenerations = new uint[256];
        _freeSlots = new int[256];
    }

    /// <summary>Any thread: hands a started operation to the ring thread. False when the engine
    /// has ended (the operation then completed synchronously, aborted). With
    /// <paramref name="quiet"/> (a receive that waits on its socket's multishot receive, posted
    /// under the receive gate) the ring thread is not woken when that multishot receive's next CQE
    /// will wake it anyway (<see cref="IoUringSocket.MultishotDeliversNext"/>): the receive
    /// needs no SQE, so a wake would only cost the ring thread a pass of its loop.</summary>
    internal bool Post(IoUringOperation op, bool quiet = false)
    {
        if (_terminated)
        {
            op.Error = SocketError.OperationAborted;
            return false;
        }

        IoUringOperation? head;
        do
        {
            head = Volatile.Read(ref _postedHead);
            op.NextPosted = head;
        }
        while (Interlocked.CompareExchange(ref _postedHead, op, head) != head);

        AfterPost(quiet && QuietMultishotPosts && op.Socket.MultishotDeliversNext());
        return true;
    }

    /// <summary>Any thread: asks the ring thread to cancel the current use of <paramref name="op"/>.</summary>
    internal void PostCancel(IoUringOperation op)
    {
        Volatile.Write(ref op.CancelUse, op.Use);
        if (Interlocked.Exchange(ref op.CancelQueued, 1) != 0)
        {
            return; // still on the stack: the ring thread reads CancelUse when it takes it
        }

        IoUringOperation? head;
        do
        {
            head = Volatile.Read(ref _cancelHead);
            op.NextCancel = head;
        }
        while (Interlocked.CompareExchange(ref _cancelHead, op, head) != head);

        AfterPost();
    }

    /// <summary>Any thread: asks the ring thread to close <paramref name="socket"/>.</summary>
    internal void PostClose(IoUringSocket socket)
    {
        IoUringSocket? head;
        do
        {
            head = Volatile.Read(ref _closeHead);
            socket.NextClose = head;
        }
        while (Interlocked.CompareExchange(ref _closeHead, socket, head) != head);

        AfterPost();
    }

    private void AfterPost(bool noWake = false)
    {
        if (IsEngineThread)
        {
            return; // the loop drains the stacks before it enters the kernel again
        }

        // Dekker with the shutdown: the push (a full fence) is ordered before this read, and the
        // ring thread sets _terminated before its last drain; one of the two sees the other.
        if (_terminated)
        {
            // Not here: a start posts under its direction's gate, and finishing operations runs
            // their continuations (any socket's, inline ones included) and releases them, which
            // may wait for other threads; user code must never run under an engine lock.
            ThreadPool.UnsafeQueueUserWorkItem(static engine => engine.AbortStragglers(), this, preferLocal: false);
            return;
        }

        if (noWake)
        {
            Interlocked.Increment(ref _quietPosts);
            return;
        }

        if (!TryDeferWake())
        {
            _waker.Wake();
        }
    }

    private bool HasPostedCommands =>
        Volatile.Read(ref _postedHead) is not null || Volatile.Read(ref _cancelHead) is not null || Volatile.Read(ref _closeHead) is not null;

    /// <summary>Ring thread: takes every posted command and turns it into SQEs or completions.</summary>
    private void DrainCommands()
    {
        for (IoUringOperation? op = Reverse(Interlocked.Exchange(ref _postedHead, null), static o => o.NextPosted, static (o, n) => o.NextPosted = n); op is not null;)
        {
            IoUringOperation? next = op.NextPosted; // read first: handling may complete and recycle it
            op.NextPosted = null;
            HandleStart(op);
            op = next;
        }

        AfterStartsDrained?.Invoke();
        for (IoUringOperation? op = Reverse(Interlocked.Exchange(ref _cancelHead, null), static o => o.NextCancel, static (o, n) => o.NextCancel = n); op is not null;)
        {
            IoUringOperation? next = op.NextCancel;
            op.NextCancel = null;

            // Cleared before CancelUse is read, and with a full fence: a plain store could be
            // ordered after the load (store-load reordering), so a canceller that wrote a later
            // use and still saw the flag set would rely on a read that already happened.
            Interlocked.Exchange(ref op.CancelQueued, 0);
            HandleCancel(op, Volatile.Read(ref op.CancelUse));
            op = next;
        }

        for (IoUringSocket? socket = Interlocked.Exchange(ref _closeHead, null); socket is not null;)
        {
            IoUringSocket? next = socket.NextClose;
            socket.NextClose = null;
            HandleClose(socket);
            socket = next;
        }
    }

    private static T? Reverse<T>(T? head, Func<T, T?> getNext, Action<T, T?> setNext) where T : class
    {
        T? reversed = null;
        while (head is not null)
        {
            T? next = getNext(head);
            setNext(head, reversed);
            reversed = head;
            head = next;
        }

        return reversed;
    }

    /// <summary>Tests: runs on the ring thread between taking the posted starts and taking the
    /// posted cancels, where a start posted meanwhile stays for the next drain while its cancel
    /// is taken now.</summary>
    internal Action? AfterStartsDrained { get; set; }

    private void HandleStart(IoUringOperation op)
    {
        int use = op.Use;
        op.StartedUse = use;
        op.CancelSubmitted = false;
        op.WaitsForMultishot = false;
        op.UserData = 0;
        IoUringSocket socket = op.Socket;
        IoUringSocket.Direction direction = socket.DirectionOf(op);

        op.State = IoUringOperation.RingState.Waiting;
        if (op.AbortOnStartUse == use && !socket.Closing)
        {
            // Cancelled while its start was still posted (the cancel was drained first): it ends
            // now, as a cancel of a queued operation does (HandleCancel), not behind an
            // operation ahead of it that may wait for ever.
            op.Error = SocketError.OperationAborted;
            FinishOperation(op);
            return;
        }

        // Aborted by a close before it ever reached the kernel: it still takes its place in the
        // FIFO, so it cannot complete ahead of an operation started before it that is still in
        // flight (a close ends every operation of the socket, in order).
        op.AbortWhenDue = socket.Closing;
        direction.Enqueue(op);
        if (socket.Closing)
        {
            if (direction.Current is null)
            {
                AbortWaiting(direction);
            }

            return;
        }

        Pump(socket, direction);
    }

    private void HandleCancel(IoUringOperation op, int cancelUse)
    {
        if (cancelUse != op.StartedUse)
        {
            // The ring thread has not taken this use's start yet (it is still on the posted
            // stack): abort it when it arrives. A request for an older use is simply stale.
            if (cancelUse - op.StartedUse > 0)
            {
                op.AbortOnStartUse = cancelUse;
            }

            return;
        }

        switch (op.State)
        {
            case IoUringOperation.RingState.Waiting:
                // Never handed to the kernel: it leaves its queue and completes now, on this
                // thread, as with System.Net.Sockets and the other backends. Waiting for the
                // operation ahead (which may be a receive that never completes) would keep a
                // queued operation's cancel or deadline from ever taking effect.
                IoUringSocket socket = op.Socket;
                IoUringSocket.Direction direction = socket.DirectionOf(op);
                if (direction.Remove(op))
                {
                    op.Error = SocketError.OperationAborted;
                    FinishOperation(op);
                    if (direction.Current is null)
                    {
                        Pump(socket, direction);
                    }
                }
                else
                {
                    op.AbortWhenDue = true;
                }

                break;
            case IoUringOperation.RingState.InFlight when op.WaitsForMultishot:
                // Nothing of it is in the kernel: it ends now; data arriving later is held for
                // the next receive.
                // The socket is read first: once completed, the object may already be released
                // (its socket cleared) or serving another socket's start.
                IoUringSocket waiting = op.Socket;
                AbortWaitingForMultishot(waiting);
                Pump(waiting, waiting.ReceiveSide);
                break;
            case IoUringOperation.RingState.InFlight when !op.CancelSubmitted:
                op.CancelSubmitted = true;
                SubmitOperationCancel(op.UserData);
                break;
        }
    }

    private void HandleClose(IoUringSocket socket)
    {
        if (socket.Closing)
        {
            return;
        }

        socket.Closing = true;

        // Operations queued behind one in flight are aborted only after its CQE, so each
        // direction still completes in submission order.
        foreach (IoUringSocket.Direction direction in new[] { socket.ReceiveSide, socket.SendSide })
        {
            if (direction.Current is { WaitsForMultishot: true })
            {
                AbortWaitingForMultishot(socket);
            }

            if (direction.Current is { } current)
            {
                if (!current.CancelSubmitted)
                {
                    current.CancelSubmitted = true;
                    SubmitOperationCancel(current.UserData);
                }
            }
            else
            {
                AbortWaiting(direction);
            }
        }

        if (socket.MultishotArmed && !socket.MultishotCancelSubmitted)
        {
            socket.MultishotCancelSubmitted = true;
            SubmitCancel(socket.MultishotUserData);
        }

        CloseAcceptedBacklog(socket);
        ReleaseIfDone(socket);
    }

    /// <summary>Starts the head of <paramref name="direction"/> when nothing of it is in flight.</summary>
    private void Pump(IoUringSocket socket, IoUringSocket.Direction direction)
    {
        while (direction.Current is null && direction.Head is { } op)
        {
            if (op.AbortWhenDue)
            {
                direction.Dequeue();
                op.Error = SocketError.OperationAborted;
                FinishOperation(op);
                continue;
            }

            if (op.Kind is OperationKind.Receive or OperationKind.Poll && PumpMultishotReceive(socket, direction, op))
            {
                continue;
            }

            if (op.Kind == OperationKind.Accept && _multishotAccept && !socket.MultishotRefused)
            {
                PumpMultishotAccept(socket);
                return;
            }

            direction.Dequeue();
            direction.Current = op;
            op.State = IoUringOperation.RingState.InFlight;
            SubmitOperation(op);
        }
    }

    /// <summary>Ends the receive that waits on the socket's multishot receive, aborted.</summary>
    private static void AbortWaitingForMultishot(IoUringSocket socket)
    {
        IoUringOperation op = socket.ReceiveSide.Current!;
        op.WaitsForMultishot = false;
        socket.ReceiveSide.Current = null;
        op.Error = SocketError.OperationAborted;
        FinishOperation(op);
    }

    /// <summary>Multishot accept: the next waiting accept to hand a connection to. Cancelled ones
    /// at the head complete, aborted, on the way, in their turn.</summary>
    private static IoUringOperation? DequeueAcceptor(IoUringSocket.Direction direction)
    {
        while (direction.Dequeue() is { } op)
        {
            if (!op.AbortWhenDue)
            {
                return op;
            }

            op.Error = SocketError.OperationAborted;
            FinishOperation(op);
        }

        return null;
    }

    /// <summary>Fills the SQE of <paramref name="op"/> (again, for the rest of a short send).</summary>
    private void SubmitOperation(IoUringOperation op)
    {
        IoUringSocket socket = op.Socket;
        if (op.Kind == OperationKind.Receive)
        {
            socket.Backlog.Forget(); // the ring takes bytes: its CQE says again whether any are left
        }

        op.UserData = AllocateSlot(op);
        socket.InFlight++;
        Interop.IoUringSqe* sqe = GetSqe();
        sqe->Fd = socket.Fd;
        sqe->UserData = op.UserData;
        byte* buffer = (byte*)op.Pin.Pointer;
        switch (op.Kind)
        {
            case OperationKind.Receive or OperationKind.Send when op.IsMessage:
                op.FillMessageSqe(sqe);
                break;
            case OperationKind.Receive when op.Buffer.Length == 0:
                // A zero-byte receive waits for readability without a buffer: RECV of length 0
                // returns 0 at once on TCP, so poll instead.
                sqe->Opcode = Interop.Sys.IORING_OP_POLL_ADD;
                sqe->OpFlags = (uint)(ushort)(Interop.Sys.POLLIN | Interop.Sys.POLLRDHUP);
                break;
            case OperationKind.Poll:
                // One-shot: the kernel looks at once and completes when ready, so a reactor
                // re-arming it after each dispatch sees level-triggered readiness.
                sqe->Opcode = Interop.Sys.IORING_OP_POLL_ADD;
                sqe->OpFlags = (uint)(ushort)ReadinessIo.ToPollEvents(op.RequestedEvents);
                break;
            case OperationKind.Receive:
                sqe->Opcode = Interop.Sys.IORING_OP_RECV;
                sqe->Addr = (ulong)buffer;
                sqe->Len = (uint)op.Buffer.Length;
                break;
            case OperationKind.Send:
                sqe->Opcode = Interop.Sys.IORING_OP_SEND;
                sqe->Addr = (ulong)(buffer + op.BytesTransferred);
                sqe->Len = (uint)(op.Buffer.Length - op.BytesTransferred);
                sqe->OpFlags = Interop.Sys.MSG_NOSIGNAL;
                break;
            case OperationKind.Connect:
                sqe->Opcode = Interop.Sys.IORING_OP_CONNECT;
                sqe->Addr = (ulong)buffer;
                sqe->Off = (ulong)op.Address!.Size; // addrlen travels in the offset field
                break;
            default:
                sqe->Opcode = Interop.Sys.IORING_OP_ACCEPT;
                sqe->OpFlags = Interop.Sys.SOCK_CLOEXEC;
                break;
        }
    }

    private void PumpMultishotAccept(IoUringSocket socket)
    {
        IoUringSocket.Direction direction = socket.ReceiveSide;
        while (direction.Head is not null && socket.AcceptedBacklog is { Count: > 0 } backlog)
        {
            if (DequeueAcceptor(direction) is not { } op)
            {
                break;
            }

            SetAccepted(op, backlog.Dequeue());
            FinishOperation(op);
        }

        if (direction.Head is not null && !socket.MultishotArmed && !socket.Closing)
        {
            socket.MultishotArmed = true;
            socket.MultishotCancelSubmitted = false;
            socket.MultishotUserData = AllocateSlot(socket);
            socket.InFlight++;
            Interop.IoUringSqe* sqe = GetSqe();
            sqe->Opcode = Interop.Sys.IORING_OP_ACCEPT;
            sqe->Fd = socket.Fd;
            sqe->IoPrio = Interop.Sys.IORING_ACCEPT_MULTISHOT;
            sqe->OpFlags = Interop.Sys.SOCK_CLOEXEC;
            sqe->UserData = socket.MultishotUserData;
        }
    }

    private void SubmitOperationCancel(ulong target)
    {
        if (!WithholdOperationCancels)
        {
            SubmitCancel(target);
        }
    }

    private void SubmitCancel(ulong target)
    {
        Interop.IoUringSqe* sqe = GetSqe();
        sqe->Opcode = Interop.Sys.IORING_OP_ASYNC_CANCEL;
        sqe->Fd = -1;
        sqe->Addr = target;
        sqe->UserData = IgnoreUserData;
    }

    private void ArmWakeRead()
    {
        _wakeArmed = true;
        Interop.IoUringSqe* sqe = GetSqe();
        sqe->Opcode = Interop.Sys.IORING_OP_READ;
        sqe->Fd = _waker.Fd;
        sqe->Addr = (ulong)(_scratch + ScratchWake);
        sqe->Len = sizeof(ulong);
        sqe->Off = ulong.MaxValue; // -1: the file's own position (an eventfd has none)
        sqe->UserData = WakeUserData;
    }

    /// <summary>The next SQE; when the SQ ring is full, submits what it holds first.</summary>
    private Interop.IoUringSqe* GetSqe()
    {
        Interop.IoUringSqe* sqe;
        while ((sqe = _ring.TryGetSqe()) is null)
        {
            uint pending = _ring.PublishTail();
            Enter(pending, 0, _deferTaskRun ? Interop.Sys.IORING_ENTER_GETEVENTS : 0, null, 0);
            sqe = _ring.TryGetSqe();
            if (sqe != null)
            {
                return sqe;
            }

            // The kernel refused more (EBUSY: completions it could not post are waiting):
            // reap, which frees room, then try again.
            ReapCompletions();
        }

        return sqe;
    }

    private ulong AllocateSlot(object owner)
    {
        int slot;
        if (_freeSlotCount > 0)
        {
            slot = _freeSlots[--_freeSlotCount];
        }
        else
        {
            if (_slotsUsed == _slots.Length)
            {
                Array.Resize(ref _slots, _slots.Length * 2);
                Array.Resize(ref _slotGenerations, _slotGenerations.Length * 2);
            }

            slot = _slotsUsed++;
        }

        uint generation = ++_slotGenerations[slot];
        if (generation == 0)
        {
            generation = ++_slotGenerations[slot]; // 0 would collide with the reserved user_data values
        }

        _slots[slot] = owner;
        _liveSlots++;
        return ((ulong)generation << 32) | (uint)slot;
    }

    /// <summary>The owner of <paramref name="userData"/>, or null for a stale value.</summary>
    private object? FindSlot(ulong userData)
    {
        int slot = (int)(uint)userData;
        return (uint)slot < (uint)_slotsUsed && _slotGenerations[slot] == (uint)(userData >> 32) ? _slots[slot] : null;
    }

    private void FreeSlot(ulong userData)
    {
        int slot = (int)(uint)userData;
        _slots[slot] = null;
        _slotGenerations[slot]++; // stale user_data no longer matches
        if (_freeSlotCount == _freeSlots.Length)
        {
            Array.Resize(ref _freeSlots, _freeSlots.Length * 2);
        }

        _freeSlots[_freeSlotCount++] = slot;
        _liveSlots--;
    }
}
