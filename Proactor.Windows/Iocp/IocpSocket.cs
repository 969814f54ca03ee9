using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace Proactor.Windows;

/// <summary>
/// One socket of the IOCP backend: associated with the engine's completion port, a receive queue
/// (receives, accepts) and a send queue (sends, connects), each with at most one overlapped call in
/// the OS's hands.
/// </summary>
/// <remarks>
/// Close: closesocket is how Windows aborts the overlapped calls of a socket — each still delivers
/// its packet (the kernel keeps the file object alive for them), and only that packet unpins the
/// buffer and releases the OVERLAPPED. So the handle is closed at once; what the contract protects
/// (buffers, OVERLAPPED, the operation objects) is released per operation when its completion is
/// delivered. Every later use of the handle value goes through DangerousAddRef, so a recycled
/// handle value is never touched. A stack that never returns an aborted call (Wine 8, now and
/// then) would leave its operation, and every one queued behind it, pending for good: the engine
/// waits a bounded time (10 s after Close, or at Dispose), then completes them with
/// OperationAborted; the lost call's OVERLAPPED and buffer then stay pinned for the life of the
/// process, and that buffer's contents are unspecified (the OS could still write to it).
/// </remarks>
internal sealed unsafe class IocpSocket : EngineSocket
{
    private readonly IocpEngine _engine;
    private readonly SafeSocketHandle _handle;
    private readonly IocpOperationQueue _receives = new();
    private readonly IocpOperationQueue _sends = new();
    private int _closed;

    public IocpSocket(IocpEngine engine, Socket socket, bool skipsCompletionPortOnSuccess)
        : base(engine, socket)
    {
        _engine = engine;
        _handle = socket.SafeHandle;
        SkipsCompletionPortOnSuccess = skipsCompletionPortOnSuccess;
    }

    /// <summary>Winsock leaves a socket whose ConnectEx failed unable to connect again (WSAECONNABORTED
    /// under Wine; .NET's Socket also starts each attempt on a new socket there).</summary>
    public override bool CanConnectAgainAfterFailedConnect => false;

    /// <summary>True when an operation that succeeds at once completes synchronously (no packet).</summary>
    public bool SkipsCompletionPortOnSuccess { get; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    public override Operation CreateOperation() => new IocpOperation();

    public override bool Start(Operation operation)
    {
        var op = (IocpOperation)operation;
        IocpOperationQueue queue = QueueOf(op.Kind);
        lock (queue.Lock)
        {
            if (IsClosed)
            {
                op.Error = SocketError.OperationAborted;
                return false;
            }

            if (queue.Head is not null)
            {
                queue.Append(op); // waits for the one in flight
                return true;
            }

            if (!Issue(op))
            {
                return false; // finished at once: the caller reads the result
            }

            queue.Append(op); // the packet is processed under this lock, so it finds op as the head
            return true;
        }
    }

    /// <summary>Under the queue lock: hands <paramref name="op"/> to the OS. True when its packet will come.</summary>
    private bool Issue(IocpOperation op)
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            op.Error = SocketError.OperationAborted;
            return false;
        }

        _engine.AddPending();
        bool pending = false;
        try
        {
            pending = op.Issue(_handle.DangerousGetHandle(), SkipsCompletionPortOnSuccess);
            return pending;
        }
        finally
        {
            // Also when Issue threw (the caller's Memory.Pin, say): nothing is in flight then.
            if (!pending)
            {
                _engine.RemovePending();
            }

            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Completion thread, under the queue lock: <see cref="Issue"/> for an operation that waited,
    /// or the continuation of one in flight. An exception here must not end the completion thread
    /// (and with it the process): it fails that operation instead, and the engine says why.
    /// </summary>
    private bool IssueFromCompletionThread(IocpOperation op, nint handle)
    {
        _engine.AddPending();
        bool pending = false;
        try
        {
            pending = op.Issue(handle, SkipsCompletionPortOnSuccess);
        }
        catch (Exception e)
        {
            FailAfterException(op, e);
        }
        finally
        {
            if (!pending)
            {
                _engine.RemovePending();
            }
        }

        return pending;
    }

    private void FailAfterException(IocpOperation op, Exception e)
    {
        // The operation's buffer could not be handed to the OS (its MemoryManager's Pin threw, or
        // an accept socket could not be made): Fault is Winsock's "bad buffer address".
        op.FailWith(SocketError.Fault);
        try
        {
            _engine.Warn("start-failed",
                $"Proactor: a {op.Kind} operation on the {_engine.Name} engine could not be started on the completion thread and fails with {SocketError.Fault}: {e}");
        }
        catch (Exception)
        {
            // The user's warning sink threw: the completion thread must outlive it.
        }
    }

    /// <summary>
    /// Completion thread: the packet of <paramref name="op"/> (this socket's head in its direction)
    /// arrived. Finishes it (or continues a partial send), then hands the next waiting operation to
    /// the OS; completes every finished one, in order, outside the lock.
    /// </summary>
    public void OnPacket(IocpOperation op, uint bytes)
    {
        IocpOperationQueue queue = QueueOf(op.Kind);
        IocpOperation? done;
        IocpOperation doneTail;
        IocpOperation? owed = null;
        bool added = false;
        try
        {
            try
            {
                _handle.DangerousAddRef(ref added);
            }
            catch (ObjectDisposedException)
            {
                // Closed: the handle value may already name another object; it is not used below.
            }

            nint handle = added ? _handle.DangerousGetHandle() : 0;
            lock (queue.Lock)
            {
                bool closed = IsClosed || !added;
                bool stillPending;
                try
                {
                    stillPending = op.OnPacket(handle, closed, bytes, SkipsCompletionPortOnSuccess);
                }
                catch (Exception e)
                {
                    // Only a re-issue (the rest of a send, the next accept) can throw here.
                    FailAfterException(op, e);
                    stillPending = false;
                }

                if (stillPending)
                {
                    return; // the rest of a partial send, or the next accept, is in flight; same packet count
                }

                _engine.RemovePending();
                Debug.Assert(queue.Head == op, "a packet arrived for an operation that is not in flight");
                done = doneTail = queue.RemoveHead();
                while (queue.Head is { } next)
                {
                    if (closed || IsClosed)
                    {
                        next.Error = SocketError.OperationAborted;
                    }
                    else if (IssueFromCompletionThread(next, handle))
                    {
                        break; // in flight now; its packet continues the queue
                    }

                    IocpOperation removed = queue.RemoveHead();
                    doneTail.QueueNext = removed;
                    doneTail = removed;
                }

                // Delivered under the lock while delivering runs no user code and waits for nothing
                // (a completion queue's post, a continuation scheduled on the pool): a start on
                // another thread that finds the direction idle and finishes at once then reports
                // after these, never before. Inline continuations run outside the lock, as user
                // code must, and so do the releases of posted operations (see ReleaseAll).
                _engine.Hooks.WhileDeliveringUnderLock?.Invoke(op.Kind);
                done = CompleteWhileNotInline(done, ref owed);
            }
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }

        ReleaseAll(owed);
        if (IsClosed)
        {
            RetireIfIdle();
        }

        CompleteAll(done);
    }

    /// <summary>Completes <paramref name="done"/>'s operations in order up to the first whose
    /// completion would run a continuation inline; returns the rest. A posted completion-queue
    /// operation is chained onto <paramref name="owed"/>, still referenced, for <see cref="ReleaseAll"/>.</summary>
    private static IocpOperation? CompleteWhileNotInline(IocpOperation? done, ref IocpOperation? owed)
    {
        while (done is not null && !done.CompletesInline)
        {
            var next = (IocpOperation?)done.QueueNext; // read first: completing may recycle the object
            done.QueueNext = null;
            if (done.CompleteKeepingQueueReference())
            {
                // Still ours (the reference is kept), so the link is free to use.
                done.QueueNext = owed;
                owed = done;
            }

            done = next;
        }

        return done;
    }

    /// <summary>
    /// Outside the queue lock: drops the completion's reference of each posted operation. The last
    /// drop releases the object, which disposes its token registration, and that waits for a cancel
    /// callback running on another thread; such a callback (<see cref="Cancel"/>) waits for the
    /// queue lock. Released under the lock, both waited for each other for good: the completion
    /// thread stopped, and every thread that then closed one of its sockets spun in Socket.Dispose
    /// on the reference this thread still held.
    /// </summary>
    private static void ReleaseAll(IocpOperation? owed)
    {
        while (owed is not null)
        {
            var next = (IocpOperation?)owed.QueueNext; // read first: releasing recycles the object
            owed.QueueNext = null;
            owed.ReleaseQueueReference();
            owed = next;
        }
    }

    private static void CompleteAll(IocpOperation? done)
    {
        while (done is not null)
        {
            var next = (IocpOperation?)done.QueueNext; // read first: completing may recycle the object
            done.QueueNext = null;
            done.Complete();
            done = next;
        }
    }

    /// <summary>
    /// Closed: once neither direction has a call in the OS's hands, none ever will again (nothing is
    /// issued after Close), so the engine stops tracking the socket for its shutdown.
    /// </summary>
    private bool RetireIfIdle()
    {
        lock (_receives.Lock)
        {
            if (_receives.Head is not null)
            {
                return false;
            }
        }

        lock (_sends.Lock)
        {
            if (_sends.Head is not null)
            {
                return false;
            }
        }

        _engine.Retire(this);
        return true;
    }

    /// <summary>
    /// Completion thread, once the engine stopped waiting for the OS (a while after Close, or at
    /// shutdown): the closed socket's calls in flight were never returned. Each ends with
    /// OperationAborted, keeping its OVERLAPPED and buffer for good (<see cref="IocpOperation.Abandon"/>);
    /// the operations queued behind it never reached the OS and end aborted as usual. Appends them
    /// all, in order, to <paramref name="done"/> for the caller to complete (after it reported why);
    /// returns how many calls were abandoned.
    /// </summary>
    public int Abandon(List<IocpOperation> done) => AbandonQueue(_receives, done) + AbandonQueue(_sends, done);

    private int AbandonQueue(IocpOperationQueue queue, List<IocpOperation> done)
    {
        lock (queue.Lock)
        {
            if (queue.Head is not { } head)
            {
                return 0;
            }

            head.Abandon();
            _engine.RemovePending();
            while (queue.Head is not null)
            {
                IocpOperation op = queue.RemoveHead();
                op.Error = SocketError.OperationAborted;
                done.Add(op);
            }

            return 1;
        }
    }

    public override void Cancel(Operation operation)
    {
        var op = (IocpOperation)operation;
        IocpOperationQueue queue = QueueOf(op.Kind);
        lock (queue.Lock)
        {
            if (queue.Head == op)
            {
                // In the OS's hands: only request; the packet (STATUS_CANCELLED, or the result if it
                // won the race) decides. Under the lock, so a partial send cannot be re-issued
                // between our look and the cancel (the re-issue checks CancelRequested).
                bool added = false;
                try
                {
                    _handle.DangerousAddRef(ref added);
                    op.CancelIo(_handle.DangerousGetHandle());
                }
                catch (ObjectDisposedException)
                {
                    // Closed: closesocket already aborted it.
                }
                finally
                {
                    if (added)
                    {
                        _handle.DangerousRelease();
                    }
                }

                return;
            }

            if (!queue.TryRemoveWaiting(op))
            {
                return; // already finished: that completion stands
            }
        }

        // Never handed to the OS: it ends now, but the completion thread delivers it.
        op.Error = SocketError.OperationAborted;
        _engine.PostAborted(op);
    }

    public override void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _engine.Unregister(this);

        // Every call is issued under a queue lock after checking _closed: passing through both
        // locks once means no call can be issued any more, so the cancel below reaches them all.
        lock (_receives.Lock)
        {
        }

        lock (_sends.Lock)
        {
        }

        // Abort the call in flight in each direction; its packet then completes it, and every
        // operation waiting behind it, with OperationAborted on the completion thread. On Windows
        // closesocket alone would abort them, but Wine keeps a socket with a pending overlapped
        // send alive after its last handle is closed, and neither call would ever complete: an
        // explicit CancelIoEx of everything on the handle ends them on both.
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            Interop.Kernel32.CancelIoEx(_handle.DangerousGetHandle(), null);
        }
        catch (ObjectDisposedException)
        {
            // Already closed under us (the handle is the caller's too): closesocket did the aborting.
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }

        // (System.Net.Sockets waits here for any thread that holds a reference on the handle —
        // ours are held only across single non-blocking calls.)
        Socket.Dispose();
        if (!RetireIfIdle())
        {
            // Wine 8 now and then never returns a call aborted by the close (its packet never
            // comes, though CancelIoEx found it): give the OS a bounded time, then end it here.
            _engine.ScheduleTimer(new TimerEntry(static s => ((IocpSocket)s!).AbandonAfterClose(), this), _engine.Hooks.DrainTimeout);
        }
    }

    /// <summary>Completion thread, a while after Close: a call the OS still has not returned is abandoned.</summary>
    private void AbandonAfterClose()
    {
        var done = new List<IocpOperation>();
        int abandoned = Abandon(done);
        RetireIfIdle();
        _engine.CompleteAbandoned(abandoned, done);
    }

    public override EndPoint? GetLocalEndPoint() => WindowsEndPoints.Get(Socket, peer: false);

    public override EndPoint? GetRemoteEndPoint() => WindowsEndPoints.Get(Socket, peer: true);

    // A completion port reports finished operations, not readiness: a zero-byte WSARecv gives
    // readability (ReceiveAsync with an empty buffer does that), but a zero-byte WSASend completes at
    // once whatever room the send buffer has, so writability would need AFD polling (undocumented,
    // and not in Wine, where this backend is tested). Half a Reactor would be worse than none.
    public override string? ReadinessUnsupportedReason =>
        "IOCP reports finished operations, not readiness: it cannot say when a socket becomes writable " +
        "(a zero-byte send completes at once). Use ReceiveAsync with an empty buffer to wait for data, and " +
        "SendAsync, which completes when the bytes are sent. See docs/reactor.md.";

    private IocpOperationQueue QueueOf(OperationKind kind) =>
        kind is OperationKind.Receive or OperationKind.Accept ? _receives : _sends;
}
