using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;

namespace Proactor.Linux;

internal sealed unsafe partial class IoUringEngine
{
    /// <summary>Connections a multishot accept may take ahead of accept operations before it is
    /// paused, so a listener nobody accepts on does not drain the kernel's backlog without bound.</summary>
    private const int MaxAcceptedBacklog = 128;

    /// <summary>How long the shutdown waits for the kernel to return cancelled requests (tests shorten it).</summary>
    internal TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Tests: operations' cancel requests are not submitted, so an operation in flight
    /// stays with the kernel the way a request that ignores its cancel would (the stuck shutdown).</summary>
    internal bool WithholdOperationCancels { get; set; }

    private void Loop()
    {
        try
        {
            EnterEngineThread();
            if ((_ring.SetupFlags & Interop.Sys.IORING_SETUP_R_DISABLED) != 0)
            {
                // Enabling from this thread makes it the ring's single issuer (SINGLE_ISSUER).
                int errno = _ring.Enable();
                if (errno != 0)
                {
                    _startFailure = new InvalidOperationException($"io_uring could not be enabled on the ring thread: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).");
                    NativeMemory.Free(_scratch);
                    _started.Set();
                    return;
                }
            }

            SetUpBufferRing();
            NoteRingThread();
            _started.Set();
            ArmWakeRead();
            while (true)
            {
                ClearDeferralMark();
                DrainCommands();
                if (_stopping)
                {
                    break;
                }

                // Before the wait is decided: what the commands, the last reap and the deadlines
                // completed goes to the pool now.
                if (FlushCompletions() && ShouldYieldToBatch())
                {
                    YieldToBatch();
                    continue;
                }

                bool wait = !_ring.HasCompletions;
                int timeout = -1;
                if (wait)
                {
                    // Announce the sleep, then look once more: a post that missed the flag is
                    // seen here, one that saw it writes the eventfd (full fences on both sides).
                    _waker.PrepareToSleep();
                    if (HasPostedCommands || _stopping)
                    {
                        _waker.Awake();
                        continue;
                    }

                    // Read after the flag, so a timer scheduled meanwhile either is seen here
                    // or wakes us (WakeLoop).
                    timeout = BoundSleepForBatches(Timers.GetWaitTimeoutMilliseconds());
                    if (timeout == 0)
                    {
                        wait = false;
                        _waker.Awake();
                    }
                }

                if (wait)
                {
                    SetRingPolicyForSleep();
                }

                SubmitAndWait(wait, timeout);
                OnRingAwake();
                _waker.Awake();
                ReapCompletions();
                AfterBoundedSleep();
                OnLoopIteration();
                Timers.RunDue();
            }

            Shutdown();
            FlushCompletions();
        }
        catch (Exception e)
        {
            // A loop thread never dies quietly: report, then let the process fail.
            WriteStandardError($"Proactor: the {Name} ring thread failed: {e}");
            throw;
        }
        finally
        {
            EndRingPolicy();
        }
    }

    /// <summary>Submits every filled SQE and, when <paramref name="wait"/>, waits in the same
    /// io_uring_enter for one completion or the timeout: one syscall per loop iteration.</summary>
    private void SubmitAndWait(bool wait, int timeoutMilliseconds)
    {
        uint toSubmit = _ring.PublishTail();
        if (!wait && toSubmit == 0 && !_deferTaskRun)
        {
            return; // nothing to submit, nothing to wait for, and completions post themselves
        }

        // With DEFER_TASKRUN, completion work runs only inside an enter with GETEVENTS.
        uint flags = wait || _deferTaskRun ? Interop.Sys.IORING_ENTER_GETEVENTS : 0;
        void* arg = null;
        nuint argSize = 0;
        if (wait && timeoutMilliseconds > 0)
        {
            var ts = (Interop.KernelTimespec*)(_scratch + ScratchTimespec);
            ts->Sec = timeoutMilliseconds / 1000;
            ts->Nsec = (timeoutMilliseconds % 1000) * 1_000_000L;
            var getevents = (Interop.IoUringGeteventsArg*)(_scratch + ScratchGeteventsArg);
            *getevents = default;
            getevents->Ts = (ulong)ts;
            arg = getevents;
            argSize = (nuint)sizeof(Interop.IoUringGeteventsArg);
            flags |= Interop.Sys.IORING_ENTER_EXT_ARG;
        }

        Enter(toSubmit, wait ? 1u : 0u, flags, arg, argSize);
    }

    private void Enter(uint toSubmit, uint minComplete, uint flags, void* arg, nuint argSize)
    {
        uint headBefore = _ring.SqHead;
        int rc = _ring.Enter(toSubmit, minComplete, flags, arg, argSize);
        Volatile.Write(ref _enterCalls, _enterCalls + 1);
        Volatile.Write(ref _sqesSubmitted, _sqesSubmitted + (_ring.SqHead - headBefore));
        if (rc >= 0)
        {
            return;
        }

        switch (-rc)
        {
            case Interop.Sys.ETIME: // the wait's timeout: a timer is due
            case Interop.Errno.EINTR: // a signal interrupted the wait
            case Interop.Errno.EAGAIN: // no memory for requests right now: retried next iteration
            case Interop.Sys.EBUSY: // completions are waiting to be posted: reap, then resubmit
                return;
            default:
                throw new InvalidOperationException($"io_uring_enter failed: errno {-rc} ({Marshal.GetPInvokeErrorMessage(-rc)}).");
        }
    }

    private void ReapCompletions()
    {
        while (_ring.TryTakeCqe(out Interop.IoUringCqe cqe))
        {
            Volatile.Write(ref _cqesReaped, _cqesReaped + 1);
            switch (cqe.UserData)
            {
                case IgnoreUserData:
                    continue;
                case WakeUserData:
                    _wakeArmed = false;
                    if (!_wakeDisarmed)
                    {
                        ArmWakeRead(); // goes out with the next enter, before the next wait
                    }

                    continue;
            }

            switch (FindSlot(cqe.UserData))
            {
                case IoUringOperation op:
                    OnOperationCompleted(op, cqe.Res, cqe.Flags);
                    break;
                case IoUringSocket { ReceiveMultishot: true } stream:
                    OnMultishotReceive(stream, cqe);
                    break;
                case IoUringSocket listener:
                    OnMultishotAccept(listener, cqe);
                    break;
                default:
                    Debug.Fail($"A CQE for unknown user_data {cqe.UserData:x}.");
                    break;
            }
        }
    }

    private void OnOperationCompleted(IoUringOperation op, int res, uint flags)
    {
        IoUringSocket socket = op.Socket;
        IoUringSocket.Direction direction = socket.DirectionOf(op);
        FreeSlot(op.UserData);
        socket.InFlight--;
        bool ending = socket.Closing || op.CancelSubmitted;
        int errno = res < 0 ? -res : 0;

        // Interrupted or spuriously not ready: the request simply runs again, unless it is ending.
        bool retry = !ending && errno is Interop.Errno.EINTR or Interop.Errno.EAGAIN;
        if (socket.Closing)
        {
            // Closing the socket aborts what was pending, whatever the kernel made of the race
            // between the cancel and the I/O (an end of stream caused by closing the peer first,
            // a connection accepted at the last moment): the caller closed it, so nothing of its
            // result is wanted.
            if (op.Kind == OperationKind.Accept && res >= 0)
            {
                Interop.Sys.Close(res);
            }

            op.Error = SocketError.OperationAborted;
            retry = false;
        }
        else
        {
            switch (op.Kind)
            {
                case OperationKind.Receive when op.IsMessage && res >= 0:
                    op.OnMessageReceived(res);
                    socket.ReceiveMayBeReady = (flags & Interop.Sys.IORING_CQE_F_SOCK_NONEMPTY) != 0;
                    break;
                case OperationKind.Send when op.IsMessage && res >= 0:
                    op.BytesTransferred += res;
                    if (op.BytesTransferred < op.TransferLength)
                    {
                        // A short gather send: the rest goes next, ahead of any later send.
                        retry = !ending;
                        if (ending)
                        {
                            op.Error = SocketError.OperationAborted;
                        }
                    }

                    break;
                case OperationKind.Send when res >= 0:
                    op.BytesTransferred += res;
                    if (op.BytesTransferred < op.Buffer.Length)
                    {
                        // A short send: the rest goes next, ahead of any later send of the socket.
                        retry = !ending;
                        if (ending)
                        {
                            op.Error = SocketError.OperationAborted;
                        }
                    }

                    break;
                case OperationKind.Receive when res >= 0:
                    op.BytesTransferred = op.Buffer.Length == 0 ? 0 : res; // a poll's result is its event mask
                    socket.ReceiveMayBeReady = op.Buffer.Length == 0 || (res > 0 && (flags & Interop.Sys.IORING_CQE_F_SOCK_NONEMPTY) != 0);
                    if (res > 0 && op.Buffer.Length > 0 && (flags & Interop.Sys.IORING_CQE_F_SOCK_NONEMPTY) != 0)
                    {
                        // Bytes are left: a full buffer starts the count (once), so the receives
                        // that follow, also on this thread, are tried at once while it says so.
                        if (res == op.Buffer.Length)
                        {
                            socket.Backlog.StartReporting(socket.Fd, socket.AddressFamily, socket.SocketType);
                        }

                        socket.Backlog.KnowSomeLeft();
                    }

                    break;
                case OperationKind.Poll when res >= 0:
                    op.BytesTransferred = (int)ReadinessIo.FromPollEvents(res, op.RequestedEvents);
                    break;
                case OperationKind.Accept when res >= 0:
                    SetAccepted(op, res);
                    break;
                case OperationKind.Connect when res >= 0:
                    break;
                case OperationKind.Accept when errno == Interop.Errno.ECONNABORTED && !ending:
                    retry = true; // the peer gave up while queued: take the next one
                    break;
                default:
                    if (!retry)
                    {
                        op.Error = ErrorOfFailedRequest(errno, op.CancelSubmitted);
                    }

                    break;
            }
        }

        if (retry)
        {
            SubmitOperation(op);
            return;
        }

        direction.Current = null;
        FinishOperation(op);
        Settle(socket, direction);
    }

    /// <summary>The error of a request that failed with <paramref name="errno"/>. A request we
    /// cancelled may end in -ECANCELED, or in -EINTR (the kernel interrupted it to cancel it) or
    /// -EAGAIN: all three are the cancel taking effect, not errors of the socket.</summary>
    internal static SocketError ErrorOfFailedRequest(int errno, bool cancelSubmitted) =>
        cancelSubmitted && errno is Interop.Errno.ECANCELED or Interop.Errno.EINTR or Interop.Errno.EAGAIN
            ? SocketError.OperationAborted
            : Interop.Errno.ToSocketError(errno);

    private void OnMultishotAccept(IoUringSocket listener, in Interop.IoUringCqe cqe)
    {
        bool more = (cqe.Flags & Interop.Sys.IORING_CQE_F_MORE) != 0;
        if (!more)
        {
            FreeSlot(listener.MultishotUserData);
            listener.MultishotArmed = false;
            listener.InFlight--;
        }

        IoUringSocket.Direction direction = listener.ReceiveSide;
        if (cqe.Res >= 0)
        {
            if (listener.Closing)
            {
                Interop.Sys.Close(cqe.Res);
            }
            else if (DequeueAcceptor(direction) is { } op)
            {
                SetAccepted(op, cqe.Res);
                FinishOperation(op);
            }
            else
            {
                (listener.AcceptedBacklog ??= new()).Enqueue(cqe.Res);
                if (listener.AcceptedBacklog.Count >= MaxAcceptedBacklog && more && !listener.MultishotCancelSubmitted)
                {
                    listener.MultishotCancelSubmitted = true;
                    SubmitCancel(listener.MultishotUserData); // re-armed once accepts catch up
                }
            }
        }
        else if (!listener.Closing)
        {
            int errno = -cqe.Res;
            if (errno == Interop.Errno.EINVAL && !more)
            {
                // A kernel before 5.19 rejects the multishot flag, and a listener that was shut
                // down fails any accept: this listener goes on with one SQE per accept, whose own
                // result decides (other listeners keep multishot; on an old kernel each pays one
                // refused request).
                listener.MultishotRefused = true;
            }
            else if (errno is not (Interop.Errno.ECANCELED or Interop.Errno.EINTR or Interop.Errno.EAGAIN or Interop.Errno.ECONNABORTED)
                && DequeueAcceptor(direction) is { } op)
            {
                op.Error = Interop.Errno.ToSocketError(errno);
                FinishOperation(op);
            }
        }

        Settle(listener, direction);
    }

    /// <summary>After a direction's operation finished: go on with the next one, or, while the
    /// socket closes, abort the rest and release the descriptor once nothing is in flight.</summary>
    private void Settle(IoUringSocket socket, IoUringSocket.Direction direction)
    {
        if (socket.Closing)
        {
            if (direction.Current is null)
            {
                AbortWaiting(direction);
            }

            ReleaseIfDone(socket);
        }
        else
        {
            Pump(socket, direction);
        }
    }

    private static void SetAccepted(IoUringOperation op, int fd)
    {
        op.AcceptedDescriptor = new SafeFileDescriptorHandle(fd); // no runtime Socket until one is needed
    }

    private static void AbortWaiting(IoUringSocket.Direction direction)
    {
        while (direction.Dequeue() is { } op)
        {
            op.Error = SocketError.OperationAborted;
            FinishOperation(op);
        }
    }

    /// <summary>Unpins the buffer and completes: after this the object belongs to its owner again.
    /// With <paramref name="kernelMayWrite"/> (a request that never returned) the pin is abandoned
    /// instead, so the GC can never move or reuse memory the kernel may still write.</summary>
    /// <remarks>
    /// User code runs here (a MemoryManager's Unpin, an inline continuation, the Warning sink of
    /// a slow-handler report): an exception from it is reported and goes no further, so the ring
    /// thread, and every other socket of the engine, keeps running.
    /// </remarks>
    private static void FinishOperation(IoUringOperation op, bool kernelMayWrite = false)
    {
        IoUringSocket socket = op.Socket;
        IoUringSocket.Gate gate = socket.GateOf(op); // the object may serve another start once completed
        op.State = IoUringOperation.RingState.Done;
        try
        {
            if (kernelMayWrite)
            {
                op.AbandonPin();
            }
            else
            {
                try
                {
                    op.Unpin();
                }
                catch (Exception e)
                {
                    op.AbandonPin();
                    ReportCallbackFailure(socket.Engine, "unpinning a buffer", e);
                }
            }

            // A receive the inline continuation starts may then take held data at once.
            bool wasCompletingInline = gate.CompletingInline;
            gate.CompletingInline = op.CompletesInline;
            try
            {
                op.Complete();
            }
            finally
            {
                gate.CompletingInline = wasCompletingInline;
            }
        }
        catch (Exception e)
        {
            ReportCallbackFailure(socket.Engine, "completing an operation", e);
        }
        finally
        {
            // After the completion was delivered (see OnFinished): per-direction order holds
            // also against a start on another thread that tries at once.
            IoUringSocket.OnFinished(gate);
        }
    }

    /// <summary>Reports an exception that user code threw on the ring thread. Not through the
    /// Warning sink alone: it may be what threw.</summary>
    private static void ReportCallbackFailure(ProactorEngine engine, string what, Exception e)
    {
        string message = $"Proactor: user code threw on the {engine.Name} ring thread while {what}; the engine goes on: {e}";
        try
        {
            engine.Warn("io_uring-callback", message);
        }
        catch (Exception)
        {
            WriteStandardError(message);
        }
    }

    private static void CloseAcceptedBacklog(IoUringSocket socket)
    {
        while (socket.AcceptedBacklog is { Count: > 0 } backlog)
        {
            Interop.Sys.Close(backlog.Dequeue());
        }
    }

    private void ReleaseIfDone(IoUringSocket socket)
    {
        if (socket.Closing && !socket.Finished && socket.InFlight == 0)
        {
            CloseAcceptedBacklog(socket);
            socket.ReleaseHeld();
            socket.ReleaseDescriptor();
            Unregister(socket);
        }
    }

    /// <summary>Ring thread, at the end: closes every socket, waits for the kernel to return every
    /// request (each operation completes once), then releases the ring.</summary>
    private void Shutdown()
    {
        IoUringSocket[] sockets;
        lock (_registrationLock)
        {
            _registrationsClosed = true;
            sockets = _sockets.Drain();
        }

        DrainCommands();
        foreach (IoUringSocket socket in sockets)
        {
            socket.TryMarkCloseRequested();
            HandleClose(socket);
        }

        _wakeDisarmed = true;
        if (_wakeArmed)
        {
            SubmitCancel(WakeUserData); // its buffer is freed below: the read must end first
        }

        long deadline = Stopwatch.GetTimestamp() + (long)(ShutdownGrace.TotalSeconds * Stopwatch.Frequency);
        while ((_liveSlots > 0 || _wakeArmed) && Stopwatch.GetTimestamp() < deadline)
        {
            DrainCommands();
            SubmitAndWait(wait: true, timeoutMilliseconds: 50);
            ReapCompletions();
        }

        _terminated = true;
        Interlocked.MemoryBarrier();

        bool stuck = _liveSlots > 0 || _wakeArmed;

        // Closing the ring makes the kernel cancel whatever it still holds, but asynchronously:
        // a request that did not return may still write its buffer after this.
        _ring.Dispose();
        if (stuck)
        {
            try
            {
                Warn("io_uring-shutdown", $"Proactor: {_liveSlots} io_uring requests did not return within {ShutdownGrace.TotalSeconds:0.#} s of shutdown; they were aborted with the ring and their buffers stay pinned for good.");
            }
            catch (Exception e)
            {
                WriteStandardError($"Proactor: the Warning callback threw during the {Name} shutdown: {e}");
            }

            for (int i = 0; i < _slotsUsed; i++)
            {
                if (_slots[i] is IoUringOperation op)
                {
                    _slots[i] = null;
                    IoUringSocket.Direction direction = op.Socket.DirectionOf(op);
                    if (direction.Current == op)
                    {
                        direction.Current = null;
                    }

                    op.Error = SocketError.OperationAborted;
                    FinishOperation(op, kernelMayWrite: true);
                }
            }

            foreach (IoUringSocket socket in sockets)
            {
                if (!socket.Finished)
                {
                    // What waited behind a stuck request never reached the kernel: abort it, in order.
                    AbortWaiting(socket.ReceiveSide);
                    AbortWaiting(socket.SendSide);
                    socket.InFlight = 0;
                    ReleaseIfDone(socket);
                }
            }
        }

        // Posted too late for the ring: after the stuck requests above, which may be ahead of them.
        AbortStragglers();
        _waker.Dispose();
        if (!stuck)
        {
            NativeMemory.Free(_scratch); // with a stuck read the kernel might still write it: leak instead
            _bufferRing?.Dispose(); // likewise: a stuck multishot receive might still pick a buffer
        }
    }

    /// <summary>After the end: completes whatever was posted, aborted. Any thread; each posted
    /// operation is taken by exactly one caller (the stacks are emptied by exchange).</summary>
    private void AbortStragglers()
    {
        while (true)
        {
            IoUringOperation? op = Interlocked.Exchange(ref _postedHead, null);
            IoUringOperation? cancels = Interlocked.Exchange(ref _cancelHead, null);
            IoUringSocket? closes = Interlocked.Exchange(ref _closeHead, null);
            if (op is null && cancels is null && closes is null)
            {
                return;
            }

            while (cancels is not null)
            {
                IoUringOperation? next = cancels.NextCancel; // read first: clearing the flag lets it be pushed again
                Volatile.Write(ref cancels.CancelQueued, 0);
                cancels = next;
            }

            // The sockets were all closed by the shutdown; nothing is left to do for closes.
            op = Reverse(op, static o => o.NextPosted, static (o, n) => o.NextPosted = n);
            while (op is not null)
            {
                IoUringOperation? next = op.NextPosted;
                op.NextPosted = null;
                op.Error = SocketError.OperationAborted;
                FinishOperation(op);
                op = next;
            }
        }
    }
}
