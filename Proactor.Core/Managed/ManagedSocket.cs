using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace Proactor.Managed;

/// <summary>
/// One socket of the managed backend: per direction, a FIFO of operations whose head alone is in
/// the runtime's hands, so completions keep submission order; the engine's loop delivers them.
/// </summary>
/// <remarks>
/// Close disposes the <see cref="System.Net.Sockets.Socket"/>: the runtime then aborts the call in
/// flight, whose completion still comes through the loop, and only then are the operations queued
/// behind it completed, aborted, in order. The runtime keeps the handle and the buffer of a call
/// alive until that call returned, so nothing is released under it.
/// </remarks>
internal sealed class ManagedSocket : EngineSocket
{
    /// <summary>How long after a close the calls the runtime has not returned are given up on
    /// (as the IOCP backend bounds calls the OS never returns).</summary>
    internal static readonly TimeSpan AbandonAfter = TimeSpan.FromSeconds(10);

    private readonly Direction _receives = new();
    private readonly Direction _sends = new();
    private volatile bool _closed;

    public ManagedSocket(ManagedEngine engine, Socket socket)
        : base(engine, socket)
    {
        ManagedEngine = engine;
    }

    public ManagedEngine ManagedEngine { get; }

    public override Operation CreateOperation() => new ManagedOperation(this);

    /// <summary>On Windows the runtime's Socket cannot connect again after a failed connect (ConnectEx).</summary>
    public override bool CanConnectAgainAfterFailedConnect => !OperatingSystem.IsWindows();

    public override bool Start(Operation operation)
    {
        var op = (ManagedOperation)operation;
        Direction d = DirectionOf(op.Kind);
        lock (d.Lock)
        {
            if (_closed)
            {
                op.Error = SocketError.OperationAborted;
                return false;
            }

            // Behind anything queued, or while the loop is still delivering earlier completions of
            // this direction, the operation waits its turn: trying now could complete it first.
            if (!d.Fifo.IsEmpty || d.Delivering)
            {
                d.Fifo.Append(op);
                return true;
            }

            // In the queue before the call starts, so a completion that outruns this thread finds it.
            d.Fifo.Append(op);
            if (op.Issue())
            {
                d.HeadInFlight = true;
                ManagedEngine.OnCallIssued();
                return true;
            }

            d.Fifo.RemoveHead();
            return false;
        }
    }

    public override void Cancel(Operation operation)
    {
        var op = (ManagedOperation)operation;
        Direction d = DirectionOf(op.Kind);
        lock (d.Lock)
        {
            if (d.HeadInFlight && d.Fifo.Head == op)
            {
                // The runtime ends the call; its completion reaches the loop like any other.
                op.CancelCall();
                return;
            }

            if (!d.Fifo.TryRemove(op))
            {
                return; // already finished, or being delivered: that completion stands
            }
        }

        // The loop delivers it: the cancelling thread never runs a continuation.
        op.Error = SocketError.OperationAborted;
        ManagedEngine.Post(static s => ((ManagedOperation)s!).Complete(), op);
    }

    /// <summary>Loop thread: the runtime finished the call of <paramref name="op"/>, the head of its direction.</summary>
    internal void OnIoCompleted(ManagedOperation op)
    {
        Direction d = DirectionOf(op.Kind);
        lock (d.Lock)
        {
            if (op.Abandoned)
            {
                return; // completed aborted long ago; the call's late return changes nothing
            }

            ManagedEngine.OnCallReturned();
            if (op.TakeResult() && !_closed)
            {
                // A send the runtime took in part goes on with the rest, still at the head.
                if (op.Issue())
                {
                    ManagedEngine.OnCallIssued();
                    return;
                }
            }

            if (_closed && op.Error == SocketError.Success)
            {
                // The socket was closed while the call was out: the operation ends aborted, as
                // on every backend, whatever the stack reported (Wine's ends a closed socket's
                // receive as a success of 0 bytes, an end of stream that never happened).
                op.Error = SocketError.OperationAborted;
            }

            d.HeadInFlight = false;
            d.Fifo.RemoveHead();
            d.Delivering = true;
        }

        Pump(d, op);
    }

    /// <summary>
    /// Loop thread: delivers <paramref name="finished"/>, then starts the next queued operations of
    /// the direction until one is pending; after a close, completes the rest aborted, in order.
    /// </summary>
    private void Pump(Direction d, ManagedOperation? finished)
    {
        ManagedOperation? deliver = finished;
        while (true)
        {
            deliver?.Complete(); // outside the lock: an inline continuation may start the next operation

            ManagedOperation? aborted = null;
            lock (d.Lock)
            {
                d.Delivering = false;
                if (d.HeadInFlight || d.Fifo.IsEmpty)
                {
                    return;
                }

                if (_closed)
                {
                    aborted = d.Fifo.TakeAll();
                }
                else
                {
                    ManagedOperation head = d.Fifo.Head!;
                    if (head.Issue())
                    {
                        d.HeadInFlight = true;
                        ManagedEngine.OnCallIssued();
                        return;
                    }

                    d.Fifo.RemoveHead();
                    d.Delivering = true;
                    deliver = head;
                }
            }

            if (aborted is not null)
            {
                CompleteAborted(aborted);
                return;
            }
        }
    }

    public override void Close()
    {
        ManagedOperation? receives;
        ManagedOperation? sends;
        lock (_receives.Lock)
        {
            lock (_sends.Lock)
            {
                if (_closed)
                {
                    return;
                }

                _closed = true;

                // Behind a call in flight the queue waits for that call's aborted completion, which
                // then ends the rest in order (Pump); otherwise the loop ends them now.
                receives = _receives.HeadInFlight ? null : _receives.Fifo.TakeAll();
                sends = _sends.HeadInFlight ? null : _sends.Fifo.TakeAll();
            }
        }

        bool callsInFlight = _receives.HeadInFlight || _sends.HeadInFlight;
        ManagedEngine.Unregister(this);
        Socket.Dispose();
        if (callsInFlight)
        {
            // The runtime returns the aborted calls at once where the OS does; a stack that never
            // returns one (Wine, now and then) must not leave its operations pending for good.
            // Should the engine stop first, its timer queue's close runs the same (no thread is
            // left to deliver then: completing late beats never).
            Action<object?> abandon = static s => ((ManagedSocket)s!).AbandonCallsInFlight();
            ManagedEngine.ScheduleTimer(new TimerEntry(abandon, this, abandon), AbandonAfter);
        }

        if (receives is not null)
        {
            ManagedEngine.Post(static s => CompleteAborted((ManagedOperation)s!), receives);
        }

        if (sends is not null)
        {
            ManagedEngine.Post(static s => CompleteAborted((ManagedOperation)s!), sends);
        }
    }

    /// <summary>Loop thread: completes, aborted, the operations of a closed socket whose calls the
    /// runtime has not returned within <see cref="AbandonAfter"/> of the close (or by the engine's
    /// shutdown), with those queued behind them. Their buffers' contents are then unspecified: the
    /// OS could still write to them (as with the IOCP backend's abandoned calls).</summary>
    internal void AbandonCallsInFlight()
    {
        AbandonCallInFlight(_receives);
        AbandonCallInFlight(_sends);
    }

    private void AbandonCallInFlight(Direction d)
    {
        ManagedOperation? chain;
        lock (d.Lock)
        {
            if (!_closed || !d.HeadInFlight)
            {
                return;
            }

            d.HeadInFlight = false;
            d.Fifo.Head!.Abandoned = true;
            ManagedEngine.OnCallReturned(); // no longer waited for
            chain = d.Fifo.TakeAll();
        }

        CompleteAborted(chain);
    }

    private static void CompleteAborted(ManagedOperation? op)
    {
        while (op is not null)
        {
            var next = (ManagedOperation?)op.QueueNext; // read first: completing may recycle the object
            op.QueueNext = null;
            op.Error = SocketError.OperationAborted;
            op.Complete();
            op = next;
        }
    }

    public override EndPoint? GetLocalEndPoint()
    {
        try
        {
            return Socket.LocalEndPoint;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    public override EndPoint? GetRemoteEndPoint()
    {
        try
        {
            return Socket.RemoteEndPoint;
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            return null;
        }
    }

    private Direction DirectionOf(OperationKind kind) =>
        kind is OperationKind.Receive or OperationKind.Accept ? _receives : _sends;

    /// <summary>One direction: its lock, its operations, and whether the head is in the runtime's hands.</summary>
    private sealed class Direction
    {
        public readonly Lock Lock = new();
        public OperationFifo<ManagedOperation> Fifo;
        public bool HeadInFlight;

        /// <summary>The loop is completing an operation it took out: later ones wait (see Start).</summary>
        public bool Delivering;
    }
}
