using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// One socket of the emulated proactor: a receive queue (receives, accepts) and a send queue
/// (sends, connects) over a non-blocking descriptor registered with the engine's demultiplexer.
/// </summary>
/// <remarks>Kept small on purpose: an idle connection costs this object, its two queues and its
/// pending receive, nothing else (see docs/bench.md, "Memory per idle connection").</remarks>
[SupportedOSPlatform("linux")]
internal sealed class EmulatedSocket<TDemux> : LinuxEngineSocket where TDemux : struct, IDemultiplexer
{
    private readonly EmulatedEngine<TDemux> _engine;
    private readonly OperationQueue _receiveQueue = new();
    private readonly OperationQueue _sendQueue = new();
    private readonly int _fd;
    private Interest _interest;
    private int _closed;

    public EmulatedSocket(EmulatedEngine<TDemux> engine, Socket socket)
        : base(engine, socket)
    {
        _engine = engine;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        MakeNonBlocking(_fd);
    }

    /// <summary>An accepted connection on its bare descriptor (already non-blocking: accepted so).</summary>
    public EmulatedSocket(EmulatedEngine<TDemux> engine, SafeHandle descriptor, AddressFamily addressFamily)
        : base(engine, descriptor, addressFamily)
    {
        _engine = engine;
        _fd = (int)descriptor.DangerousGetHandle();
        MakeNonBlocking(_fd);
    }

    /// <summary>
    /// Sets O_NONBLOCK on the descriptor directly, not through <see cref="Socket.Blocking"/>: on
    /// Linux that gives the handle the runtime's own async context (150 bytes and three lock objects
    /// per connection, never used here). The runtime's Socket then still calls itself blocking;
    /// nothing here asks it to perform I/O.
    /// </summary>
    private static void MakeNonBlocking(int fd)
    {
        int flags = Interop.Sys.Fcntl(fd, Interop.Sys.F_GETFL, 0);
        if (flags < 0 ||
            ((flags & Interop.Sys.O_NONBLOCK) == 0 && Interop.Sys.Fcntl(fd, Interop.Sys.F_SETFL, flags | Interop.Sys.O_NONBLOCK) < 0))
        {
            throw new SocketException((int)Interop.Errno.ToSocketError(Interop.Errno.Last));
        }
    }

    /// <summary>The key the demultiplexer reports for this socket (set once at registration).</summary>
    public ulong Key { get; set; }

    public int Fd => _fd;

    public override Operation CreateOperation() => new EmulatedOperation();

    /// <summary>An emulated operation keeps nothing of its socket between uses (Start resets its
    /// emulation state; cancels are dropped with its registration before it is released).</summary>
    public override bool SharesOperations => true;

    /// <summary>The descriptor is non-blocking, so sendfile(2) on it is a send like any other: the
    /// loop retries it on writability.</summary>
    public override bool SupportsFileSend => true;

    public override bool Start(Operation operation)
    {
        var op = (EmulatedOperation)operation;
        op.ResetEmulationState();
        OperationQueue queue = QueueOf(op);
        bool tryNow = true;
        if (op.Kind == OperationKind.Poll && op.WaitForNextReport)
        {
            // Armed on the loop thread, which alone counts reports: no report can slip between.
            op.Reports = IsWriteWait(op) ? _sendQueue : _receiveQueue;
            op.ArmedAtReport = op.Reports.Value;
            tryNow = false;
        }

        bool pending = queue.Submit(op, Handle, out bool becameNonEmpty, tryNow);
        if (becameNonEmpty && TDemux.TracksInterest)
        {
            UpdateInterest();
        }

        return pending;
    }

    public override void Cancel(Operation operation)
    {
        var op = (EmulatedOperation)operation;
        if (!QueueOf(op).TryRemove(op, out bool drained))
        {
            return; // already finished (or being finished) by the loop or close: that completion stands
        }

        if (drained && TDemux.TracksInterest)
        {
            UpdateInterest();
        }

        if (!drained && op.Kind == OperationKind.Poll && op.WaitForNextReport)
        {
            // Unlike a would-block operation, a wait for the next report may have held up operations
            // behind it that can run now, and an edge-triggered source will not report again.
            // Retried without counting a report, so other waits for the next report stay armed.
            _engine.Post(static s => ((EmulatedSocket<TDemux>)s!).RetryQueues(), this);
        }

        // The loop delivers the completion: the cancelling thread (a token's, a timer's, any
        // user's) never runs a continuation, and the op's timeout entry is never re-armed from
        // inside its own firing.
        op.Error = SocketError.OperationAborted;
        _engine.Post(static s => ((EmulatedOperation)s!).Complete(), op);
    }

    /// <summary>Loop thread: the demultiplexer reported readiness for this socket.</summary>
    public void OnReadiness(Readiness readiness)
    {
        if ((readiness & (Readiness.Read | Readiness.ErrorOrHangup)) != 0)
        {
            _receiveQueue.Value++; // the direction's report count
            _receiveQueue.PeerEnded |= (readiness & (Readiness.PeerClosed | Readiness.ErrorOrHangup)) != 0;
            Drain(_receiveQueue);
        }

        if ((readiness & (Readiness.Write | Readiness.ErrorOrHangup)) != 0)
        {
            _sendQueue.Value++;
            Drain(_sendQueue);
        }
    }

    private void RetryQueues()
    {
        Drain(_receiveQueue);
        Drain(_sendQueue);
    }

    private void Drain(OperationQueue queue)
    {
        while (true)
        {
            EmulatedOperation? done = queue.OnReady(_fd, out bool drained, out bool spared);
            if (spared)
            {
                _engine.SparedReceives++;
            }

            if (drained && TDemux.TracksInterest)
            {
                UpdateInterest();
            }

            if (done is null)
            {
                return;
            }

            CompleteChain(done);
            if (!queue.EndDelivery())
            {
                return;
            }
        }
    }

    public override void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        // Closing the queues first guarantees that no syscall runs on the descriptor any more
        // (the loop only runs operations under the queue lock; fast-path submitters hold a handle
        // reference), so the descriptor can be deregistered and closed safely.
        EmulatedOperation? receives = _receiveQueue.Close();
        EmulatedOperation? sends = _sendQueue.Close();
        _engine.Unregister(this);
        DisposeDescriptor();
        PostAborted(receives);
        PostAborted(sends);
    }

    /// <summary>Hands a chain of operations taken out of a closed queue to the loop, which
    /// completes each once with <see cref="SocketError.OperationAborted"/>.</summary>
    private void PostAborted(EmulatedOperation? op)
    {
        while (op is not null)
        {
            var next = (EmulatedOperation?)op.QueueNext;
            op.QueueNext = null;
            op.Error = SocketError.OperationAborted;
            _engine.Post(static s => ((EmulatedOperation)s!).Complete(), op);
            op = next;
        }
    }

    private static void CompleteChain(EmulatedOperation? op)
    {
        while (op is not null)
        {
            var next = (EmulatedOperation?)op.QueueNext; // read first: completing may recycle the object
            op.QueueNext = null;
            op.Complete();
            op = next;
        }
    }

    private void UpdateInterest()
    {
        // Computed from the queues under one lock, so concurrent updates cannot leave a stale mask.
        // The lock is this socket's own monitor (nothing else can reach it): no lock object per connection.
        lock (this)
        {
            if (Volatile.Read(ref _closed) != 0)
            {
                return;
            }

            Interest wanted = (_receiveQueue.HasPending ? Interest.Read : Interest.None) |
                              (_sendQueue.HasPending ? Interest.Write : Interest.None);
            if (wanted != _interest)
            {
                Interest previous = _interest;
                _interest = wanted;
                _engine.Demux.SetInterest(_fd, Key, previous, wanted);
            }
        }
    }

    /// <summary>Deregistration under the interest lock, so it never interleaves with an interest change.</summary>
    public void UnregisterFrom(ref TDemux demux)
    {
        lock (this)
        {
            demux.Unregister(_fd, Key);
        }
    }

    private OperationQueue QueueOf(EmulatedOperation op) =>
        op.Kind is OperationKind.Receive or OperationKind.Accept || (op.Kind == OperationKind.Poll && !IsWriteWait(op))
            ? _receiveQueue
            : _sendQueue;

    // A wait for writability queues with the sends, one for readability with the receives.
    private static bool IsWriteWait(EmulatedOperation op) => (op.RequestedEvents & SocketEvents.Writable) != 0;

    public override string? ReadinessUnsupportedReason => null;

    public override bool TryReceive(Span<byte> buffer, out int received, out SocketError error)
    {
        Backlog.Forget(); // a reactor's receive takes bytes without counting what it leaves
        return ReadinessIo.TryReceive(Handle, buffer, out received, out error);
    }

    public override bool TrySend(ReadOnlySpan<byte> buffer, out int sent, out SocketError error) =>
        ReadinessIo.TrySend(Handle, buffer, out sent, out error);
}
