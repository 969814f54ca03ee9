using System;
using System.Buffers;
using System.Net.Sockets;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// Multishot receive: once a stream socket has received through the ring, one multishot RECV
/// stays armed on it and the kernel hands each arrival to the engine in a buffer of the engine's
/// shared buffer ring. The bytes go straight into the waiting receive's buffer, or, when no
/// receive waits (or it is shorter), into this socket's held data, from which the next receive
/// completes synchronously, without an SQE. The ring buffer is handed back at once either way.
/// </summary>
/// <remarks>
/// Held data is rented only while it holds bytes, so an idle socket keeps no buffer. It lives
/// under the receive gate: the ring thread adds to it, and a starter on any thread may take from
/// it when nothing of the receive direction is queued (the gate's count), which keeps receives in
/// order. While a socket is in multishot mode no receive syscall is tried on the starting thread:
/// the kernel may already have handed later bytes to the ring.
/// </remarks>
internal sealed partial class IoUringSocket
{
    /// <summary>Bytes a socket may hold unconsumed before its multishot receive is cancelled, so a
    /// peer that sends faster than the application receives meets TCP flow control, not our memory.</summary>
    internal const int MaxHeldBytes = 64 * 1024;

    /// <summary>The smallest held buffer rented: a message that arrives in several ring buffers
    /// then fits at once, instead of growing (and copying) per CQE.</summary>
    private const int MinHeldBuffer = 64 * 1024;

    private volatile bool _receiveMultishot;
    private byte[]? _held;
    private int _heldStart;
    private int _heldCount;
    private bool _heldEnd;
    private SocketError _heldError;

    /// <summary>Receives go through the multishot receive (set once, by the ring thread, while a
    /// receive is outstanding, so no starter is trying a syscall at that moment).</summary>
    public bool ReceiveMultishot => _receiveMultishot;

    /// <summary>Ring thread: from now on receives go through the multishot receive, or, with
    /// <paramref name="singleShot"/>, through a single-shot receive into a ring buffer armed for each
    /// receive that waits (<see cref="SingleShotArming"/>).</summary>
    public void EnterReceiveMultishot(bool singleShot = false)
    {
        SingleShotArming = singleShot;
        _receiveMultishot = true;
        Backlog.Forget(); // the multishot receive takes bytes without counting what it leaves
    }

    /// <summary>Ring thread: the socket's receive into a ring buffer is armed single-shot, only
    /// while a receive waits for it (see <see cref="IoUringEngine.SingleShotZeroByteReceive"/>).</summary>
    public bool SingleShotArming;

    /// <summary>Ring thread: receives go one SQE each again (the kernel refused the multishot
    /// receive, or the socket turned out to carry bulk data); only once nothing is held and no
    /// multishot receive is armed, while a receive is outstanding.</summary>
    public void LeaveReceiveMultishot()
    {
        _receiveMultishot = false;
        SingleShotArming = false;
        Backlog.Forget();
    }

    /// <summary>Ring thread: an arrival filled a whole ring buffer, so this is a bulk stream: a
    /// receive straight into the caller's buffer copies once, the ring twice more (into held
    /// data, then out). The multishot receive was cancelled; once it ended and what it held was
    /// taken, the socket leaves multishot mode, for good.</summary>
    public bool BulkStream;

    /// <summary>An end of stream or an error waits to be delivered (ring thread).</summary>
    public bool HasHeldEvent => _heldEnd || _heldError != SocketError.Success;

    /// <summary>Held bytes (ring thread: for the take-ahead bound).</summary>
    public int HeldBytes => _heldCount;

    /// <summary>Held bytes, from any thread (for <see cref="ProactorSocket.Available"/>).</summary>
    public override int HeldReceiveBytes
    {
        get
        {
            lock (ReceiveSide)
            {
                return _heldCount;
            }
        }
    }

    /// <summary>A receive the multishot receive can serve: a plain, scatter or peeking receive of a
    /// stream, a zero-byte receive, or a readable wait. Out-of-band data and receives asking for
    /// addresses or control data keep their own SQE.</summary>
    public static bool IsServedByMultishot(IoUringOperation op) => op.Kind switch
    {
        OperationKind.Receive => !op.IsDatagram &&
            (!op.IsMessage || (op.PeerAddress is null && !op.WantsPacketInformation && (op.Flags & ~SocketFlags.Peek) == 0)),
        OperationKind.Poll => (op.RequestedEvents & SocketEvents.Writable) == 0,
        _ => false,
    };

    /// <summary>
    /// A starter on another thread, holding the receive gate, after it pushed a receive that waits
    /// on the multishot receive: true when the ring thread need not be woken for it, because the
    /// next thing the receive can complete with (an arrival, the end of the stream, an error, the
    /// end of the multishot receive) comes as a CQE, which wakes the ring thread anyway.
    /// </summary>
    /// <remarks>
    /// Nothing may be held yet: held data (added under this gate, so not concurrently) would
    /// otherwise wait for the next arrival. The multishot receive must be armed as read after the
    /// push (a full fence): the ring thread clears <see cref="MultishotArmed"/> while it reaps, and
    /// takes the posted stack (a full fence) before it sleeps again, so either it takes this push
    /// or the starter reads the cleared flag and wakes it.
    /// </remarks>
    public bool MultishotDeliversNext() =>
        Volatile.Read(ref MultishotArmed) && _heldCount == 0 && !_heldEnd && _heldError == SocketError.Success;

    /// <summary>Ring thread: appends received bytes.</summary>
    public void Hold(ReadOnlySpan<byte> data)
    {
        lock (ReceiveSide)
        {
            int needed = _heldCount + data.Length;
            if (_held is null || _held.Length - _heldStart < needed)
            {
                byte[] grown = _held is not null && _held.Length >= needed
                    ? _held
                    // Single-shot arming brings one arrival per wait: rented to its size, as a
                    // 64 KiB buffer per message would miss the pool's few cached arrays (measured:
                    // 1 000 connections then cost more than with a poll and a recv(2)).
                    : ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(SingleShotArming ? 0 : MinHeldBuffer, (_held?.Length ?? 0) * 2)));
                if (_held is not null)
                {
                    _held!.AsSpan(_heldStart, _heldCount).CopyTo(grown);
                    if (!ReferenceEquals(grown, _held))
                    {
                        ArrayPool<byte>.Shared.Return(_held);
                    }
                }

                _held = grown;
                _heldStart = 0;
            }

            data.CopyTo(_held.AsSpan(_heldStart + _heldCount));
            _heldCount += data.Length;
        }
    }

    /// <summary>Ring thread: the peer ended its side (recv returned 0); every later receive gets 0.</summary>
    public void HoldEnd()
    {
        lock (ReceiveSide)
        {
            _heldEnd = true;
        }
    }

    /// <summary>Ring thread: the receive failed; the next receive gets the error, once.</summary>
    public void HoldError(SocketError error)
    {
        lock (ReceiveSide)
        {
            _heldError = error;
        }
    }

    /// <summary>
    /// Completes <paramref name="op"/> from what is held, when anything is: bytes (consumed, or
    /// copied only, for a peek; a zero-byte receive or a readable wait only learns they are there),
    /// then a held error (once), then the end of the stream (for good). Any thread, under the
    /// receive gate; the caller makes sure nothing of the direction is queued ahead of it.
    /// </summary>
    public bool TryTakeHeld(IoUringOperation op)
    {
        lock (ReceiveSide)
        {
            if (_heldCount > 0)
            {
                if (op.Kind == OperationKind.Poll)
                {
                    op.BytesTransferred = (int)SocketEvents.Readable;
                    return true;
                }

                if (!op.IsMessage)
                {
                    int n = Math.Min(op.Buffer.Length, _heldCount);
                    _held!.AsSpan(_heldStart, n).CopyTo(op.Buffer.Span);
                    op.BytesTransferred = n;
                    Consume(n);
                    return true;
                }

                int copied = 0;
                for (int i = 0; i < op.MessageBufferCount && copied < _heldCount; i++)
                {
                    Span<byte> target = op.MessageBuffer(i).Span;
                    int n = Math.Min(target.Length, _heldCount - copied);
                    _held!.AsSpan(_heldStart + copied, n).CopyTo(target);
                    copied += n;
                }

                op.BytesTransferred = copied;
                op.ReceivedFlags = SocketFlags.None;
                if ((op.Flags & SocketFlags.Peek) == 0)
                {
                    Consume(copied);
                }

                return true;
            }

            if (_heldError != SocketError.Success)
            {
                if (op.Kind == OperationKind.Poll)
                {
                    op.BytesTransferred = (int)(SocketEvents.Readable | SocketEvents.Error);
                    return true;
                }

                op.Error = _heldError;
                _heldError = SocketError.Success;
                return true;
            }

            if (_heldEnd)
            {
                op.BytesTransferred = op.Kind == OperationKind.Poll ? (int)(SocketEvents.Readable | SocketEvents.HangUp) : 0;
                return true;
            }

            return false;
        }
    }

    private void Consume(int n)
    {
        _heldStart += n;
        _heldCount -= n;
        if (_heldCount == 0)
        {
            // Drained: the buffer goes back, so a socket between messages holds nothing.
            ArrayPool<byte>.Shared.Return(_held!);
            _held = null;
            _heldStart = 0;
        }
    }

    /// <summary>Ring thread, when the socket is released: drops what was held.</summary>
    public void ReleaseHeld()
    {
        lock (ReceiveSide)
        {
            if (_held is not null)
            {
                ArrayPool<byte>.Shared.Return(_held);
                _held = null;
            }

            _heldStart = 0;
            _heldCount = 0;
        }
    }

    /// <summary>The readiness API's direct receive: what is held comes first.</summary>
    private bool TryReceiveHeld(Span<byte> buffer, out int received, out SocketError error)
    {
        lock (ReceiveSide)
        {
            received = 0;
            error = SocketError.Success;
            if (_heldCount > 0)
            {
                received = Math.Min(buffer.Length, _heldCount);
                _held!.AsSpan(_heldStart, received).CopyTo(buffer);
                Consume(received);
                return true;
            }

            if (_heldError != SocketError.Success)
            {
                error = _heldError;
                _heldError = SocketError.Success;
                return true;
            }

            return _heldEnd;
        }
    }
}
