using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// The operations of one socket in one direction, FIFO. The head is tried whenever the direction
/// becomes ready; only the head may run, so completions keep submission order.
/// </summary>
/// <remarks>
/// A submitter that finds the queue empty tries its syscall at once, holding the lock, and
/// enqueues under the same hold when it would block. Holding the lock across the try closes two
/// races at once: a readiness report that arrives meanwhile waits for the lock and then finds the
/// operation queued (no lost wake-up), and a second submitter from another thread queues behind
/// it, so it can never write its bytes between the halves of a send the kernel took in part.
/// The try is one non-blocking syscall; the loop holds the lock no longer than that itself.
///
/// The loop executes queued operations while holding the lock (non-blocking syscalls, never a
/// wait), which makes dequeue-and-complete an atomic transfer of ownership: an operation leaves
/// the queue exactly once, through the loop, a cancel, or close.
///
/// The loop completes what it dequeued after releasing the lock. Until it has, the direction
/// counts as busy: a submitter queues behind instead of trying at once, so it cannot take later
/// bytes and post its completion before the earlier operations' completions are posted (a
/// completion-queue reader would see the stream out of order). The loop then runs what queued
/// meanwhile (<see cref="EndDelivery"/>), since with edge-triggered readiness no new edge may come.
///
/// The lock is the queue's own monitor (nothing else can reach this object), not a
/// <see cref="Lock"/>: every idle connection has two queues, and a separate lock object each is 40
/// bytes per queue for nothing. The queue is also its direction's <see cref="ReportCounter"/>.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class OperationQueue : ReportCounter
{
    private OperationFifo<EmulatedOperation> _waiting;
    private volatile bool _hasPending;
    private bool _delivering;
    private bool _closed;

    // Loop thread only. A plain stream receive the loop ran that would block, or came back short
    // before the peer's end was reported, proves the socket had nothing more to report at report
    // count _emptyAtReport: the kernel reports any byte that arrives later (a new edge, or the
    // next level-triggered wait), and the loop alone counts reports, so until Value moves on, a
    // receive queued meanwhile (an inline continuation's, typically a server's zero-byte wait for
    // the next request) would only get EAGAIN: the loop leaves it for that report instead of
    // making the syscall. Who else reads the socket (a submitter's try on another thread) cannot
    // add data, so it cannot make the proof wrong. The peer's end (or an error) is the exception:
    // after the short read that took the last bytes, the next receive returns 0 at once, and an
    // edge-triggered source reported that end only once, maybe before the read; so once it was
    // reported (PeerEnded), only would-block proves anything. The report itself still gets its
    // syscall: it may be stale, for bytes the proving read already took.
    private bool _knownEmpty;
    private int _emptyAtReport;

    /// <summary>Loop thread: the demultiplexer reported the peer's end of the stream, a hang-up or
    /// an error for this direction (see the proofs above).</summary>
    public bool PeerEnded;

    /// <summary>True while an operation waits for readiness (read without the lock for interest updates).</summary>
    public bool HasPending => _hasPending;

    /// <summary>
    /// Starts <paramref name="op"/>. Returns false when it finished at once (its result is set),
    /// true when it was queued; <paramref name="becameNonEmpty"/> tells whether interest must grow.
    /// </summary>
    /// <param name="op">The operation to start.</param>
    /// <param name="handle">The socket's handle, for the attempt made at once.</param>
    /// <param name="becameNonEmpty">Set when the queue was empty before: interest must grow.</param>
    /// <param name="tryNow">False for a reactor's wait for the next report: it is only queued.</param>
    public bool Submit(EmulatedOperation op, SafeHandle handle, out bool becameNonEmpty, bool tryNow = true)
    {
        becameNonEmpty = false;
        lock (this)
        {
            if (_closed)
            {
                op.Error = SocketError.OperationAborted;
                return false;
            }

            if (_waiting.IsEmpty)
            {
                // Fast path: nothing queued ahead, so try the syscall now, without the loop.
                if (tryNow && !_delivering && op.TryExecute(handle))
                {
                    return false;
                }

                becameNonEmpty = true;
            }

            _waiting.Append(op);
            _hasPending = true;
            return true;
        }
    }

    /// <summary>
    /// The loop's response to readiness: run queued operations from the head until one would
    /// block. Returns the finished ones as a chain (via <see cref="Operation.QueueNext"/>), to be
    /// completed by the caller outside the lock and then reported with <see cref="EndDelivery"/>;
    /// <paramref name="drained"/> tells whether interest may shrink, <paramref name="spared"/>
    /// whether a receive was left for the next report without its syscall (see the proofs).
    /// </summary>
    public EmulatedOperation? OnReady(int fd, out bool drained, out bool spared)
    {
        spared = false;
        EmulatedOperation? done = null;
        EmulatedOperation? doneTail = null;
        lock (this)
        {
            while (_waiting.Head is { } op && !_closed)
            {
                bool plainReceive = IsPlainStreamReceive(op);
                if (plainReceive && _knownEmpty && _emptyAtReport == Value)
                {
                    spared = true;
                    break; // would only get EAGAIN: the next report brings the data
                }

                bool finished = op.TryExecute(fd);
                if (plainReceive)
                {
                    _knownEmpty = !finished ||
                        (!PeerEnded && op.Error == SocketError.Success && op.BytesTransferred > 0 && op.BytesTransferred < op.Buffer.Length);
                    _emptyAtReport = Value;
                }

                if (!finished)
                {
                    break;
                }

                _waiting.RemoveHead();
                if (doneTail is null)
                {
                    done = op;
                }
                else
                {
                    doneTail.QueueNext = op;
                }

                doneTail = op;
            }

            _hasPending = !_waiting.IsEmpty;
            drained = done is not null && _waiting.IsEmpty;
            _delivering = done is not null;
        }

        return done;
    }

    /// <summary>A stream receive into one buffer, without flags, or a zero-byte wait (a one-byte
    /// peek): its result says whether the socket holds more data. Every datagram receive, and
    /// every receive with flags or several buffers, goes through recvmsg (<see cref="Operation.IsMessage"/>).</summary>
    private static bool IsPlainStreamReceive(EmulatedOperation op) => op.Kind == OperationKind.Receive && !op.IsMessage;

    /// <summary>Loop thread, after completing what <see cref="OnReady"/> returned. Returns true when
    /// operations queued meanwhile and must be tried now.</summary>
    public bool EndDelivery()
    {
        lock (this)
        {
            _delivering = false;
            return !_waiting.IsEmpty && !_closed;
        }
    }

    /// <summary>Takes <paramref name="op"/> out of the queue if it is still waiting there.</summary>
    public bool TryRemove(EmulatedOperation op, out bool drained)
    {
        lock (this)
        {
            drained = false;
            if (!_waiting.TryRemove(op))
            {
                return false;
            }

            _hasPending = !_waiting.IsEmpty;
            drained = _waiting.IsEmpty;
            return true;
        }
    }

    /// <summary>Closes the queue: no syscall runs on it afterwards. Returns every waiting operation
    /// as a chain through <see cref="Operation.QueueNext"/>.</summary>
    public EmulatedOperation? Close()
    {
        lock (this)
        {
            _closed = true;
            _hasPending = false;
            return _waiting.TakeAll();
        }
    }
}
