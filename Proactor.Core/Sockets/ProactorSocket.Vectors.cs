using System;
using System.Buffers;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor;

public sealed partial class ProactorSocket
{
    /// <summary>Sends every byte of <paramref name="buffers"/>, in order, with one gather call
    /// (sendmsg with an iovec per segment, WSASend with a WSABUF per segment); completes with the
    /// total once all of it was handed to the OS. On a datagram socket the segments form one datagram.</summary>
    /// <param name="buffers">The segments; the list and the arrays must not change until the send completes.</param>
    /// <param name="cancellationToken">Cancels the send while it waits for room.</param>
    /// <returns>The total number of bytes sent.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="buffers"/> is null.</exception>
    /// <exception cref="ArgumentException">A segment has no array, or (datagram socket) there are more than
    /// 1024 segments or more bytes than a datagram can carry.</exception>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public ValueTask<int> SendAsync(IList<ArraySegment<byte>> buffers, CancellationToken cancellationToken = default)
    {
        ValidateAwaitable(OperationKind.Send);
        ValidateSegments(buffers, send: true);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        Operation op = Rent(OperationKind.Send);
        op.Prepare(OperationKind.Send, this, default, null, null, null);
        PrepareSegments(op, buffers);
        return StartPrepared(op, cancellationToken);
    }

    /// <summary>Sends every byte of <paramref name="buffers"/>, in order, with one gather call per
    /// at most 1024 segments; completes with the total once all of it was handed to the OS. On a
    /// datagram socket the sequence forms one datagram.</summary>
    /// <param name="buffers">The bytes; their memory must not be reused until the send completes.</param>
    /// <param name="cancellationToken">Cancels the send while it waits for room.</param>
    /// <returns>The total number of bytes sent.</returns>
    /// <exception cref="ArgumentException">The sequence is longer than <see cref="int.MaxValue"/> bytes, or
    /// (datagram socket) has more than 1024 segments or more bytes than a datagram can carry.</exception>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public ValueTask<int> SendAsync(ReadOnlySequence<byte> buffers, CancellationToken cancellationToken = default)
    {
        if (buffers.IsSingleSegment)
        {
            return SendAsync(buffers.First, cancellationToken);
        }

        ValidateAwaitable(OperationKind.Send);
        ValidateSequence(buffers);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        Operation op = Rent(OperationKind.Send);
        op.Prepare(OperationKind.Send, this, default, null, null, null);
        PrepareSequence(op, buffers);
        return StartPrepared(op, cancellationToken);
    }

    /// <summary>
    /// The pipe connection's write: the whole sequence in one gather send (per 1024 segments),
    /// as a non-generic <see cref="ValueTask"/> backed by the pooled operation (no box, no iovec or
    /// handle array per call: both are pooled with the operation). Errors are
    /// <see cref="SocketException"/>s, as from <see cref="SendAsync(ReadOnlySequence{byte}, CancellationToken)"/>.
    /// </summary>
    internal ValueTask SendSequenceAsync(in ReadOnlySequence<byte> buffers, CancellationToken cancellationToken)
    {
        ValidateAwaitable(OperationKind.Send);
        ValidateSequence(buffers);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        Operation op = Rent(OperationKind.Send);
        if (buffers.IsSingleSegment)
        {
            op.Prepare(OperationKind.Send, this, MemoryMarshal.AsMemory(buffers.First), null, null, null);
        }
        else
        {
            op.Prepare(OperationKind.Send, this, default, null, null, null);
            PrepareSequence(op, buffers);
        }

        if (!_engineSocket.Start(op))
        {
            Exception? exception = op.Error == SocketError.Success ? null : op.CreateException();
            op.Release();
            return exception is null ? default : ValueTask.FromException(exception);
        }

        op.RegisterCancellation(cancellationToken);
        return new ValueTask(op, op.Version);
    }

    /// <summary>Receives into <paramref name="buffers"/> with one scatter call (recvmsg, WSARecv with
    /// several WSABUFs): the bytes fill the first segment, then the next, in order. Completes with the
    /// total count, 0 when the peer closed its side.</summary>
    /// <param name="buffers">At most 1024 segments; they must not change until the receive completes.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The number of bytes received in all.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="buffers"/> is null.</exception>
    /// <exception cref="ArgumentException">A segment has no array, or there are more than 1024 segments.</exception>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public ValueTask<int> ReceiveAsync(IList<ArraySegment<byte>> buffers, CancellationToken cancellationToken = default)
    {
        ValidateAwaitable(OperationKind.Receive);
        ValidateSegments(buffers, send: false);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        Operation op = Rent(OperationKind.Receive);
        op.Prepare(OperationKind.Receive, this, default, null, null, null);
        PrepareSegments(op, buffers);
        return StartPrepared(op, cancellationToken);
    }

    /// <summary>Receives into <paramref name="buffer"/> with <paramref name="socketFlags"/>:
    /// <see cref="SocketFlags.Peek"/> returns the data without consuming it (the next receive gets it
    /// again); <see cref="SocketFlags.OutOfBand"/> reads the TCP urgent byte.</summary>
    /// <param name="buffer">Where the bytes go.</param>
    /// <param name="socketFlags"><see cref="SocketFlags.None"/>, <see cref="SocketFlags.Peek"/>,
    /// <see cref="SocketFlags.OutOfBand"/> or both.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The byte count, 0 when the peer closed its side.</returns>
    /// <remarks>An out-of-band receive does not wait for urgent data: with none pending the OS fails
    /// it at once (<see cref="SocketError.InvalidArgument"/> on Linux), as with <see cref="Socket"/>.</remarks>
    /// <exception cref="ArgumentException">The flags are not supported.</exception>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, SocketFlags socketFlags, CancellationToken cancellationToken = default)
    {
        ValidateAwaitable(OperationKind.Receive);
        ValidateReceiveFlags(socketFlags, SocketFlags.Peek | SocketFlags.OutOfBand, nameof(ReceiveAsync));
        if (socketFlags == SocketFlags.None)
        {
            return StartTransfer(OperationKind.Receive, buffer, Timeout.InfiniteTimeSpan, cancellationToken);
        }

        return StartMessage(OperationKind.Receive, buffer, socketFlags, null, cancellationToken);
    }

    private void PrepareSegments(Operation op, IList<ArraySegment<byte>> buffers)
    {
        try
        {
            op.SetSegments(buffers);
        }
        catch
        {
            op.Release();
            throw;
        }
    }

    private void PrepareSequence(Operation op, in ReadOnlySequence<byte> buffers)
    {
        try
        {
            op.SetSegments(buffers);
        }
        catch
        {
            op.Release();
            throw;
        }
    }

    private void ValidateSegments(IList<ArraySegment<byte>> buffers, bool send)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        int count = buffers.Count;
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            ArraySegment<byte> segment = buffers[i];
            if (segment.Array is null)
            {
                throw new ArgumentException($"Segment {i} of the buffer list has no array.", nameof(buffers));
            }

            total += segment.Count;
        }

        if (total > int.MaxValue)
        {
            throw new ArgumentException($"The buffers hold {total} bytes in all; one operation moves at most {int.MaxValue}.", nameof(buffers));
        }

        if ((!send || IsDatagram) && count > Operation.MaxSegmentsPerCall)
        {
            throw new ArgumentException(
                $"{count} segments: one {(send ? "datagram" : "receive")} takes at most {Operation.MaxSegmentsPerCall} (the OS's IOV_MAX).", nameof(buffers));
        }

        if (send && IsDatagram)
        {
            ValidateDatagramLength((int)total, nameof(buffers));
        }
    }

    private void ValidateSequence(in ReadOnlySequence<byte> buffers)
    {
        if (buffers.Length > int.MaxValue)
        {
            throw new ArgumentException($"The sequence holds {buffers.Length} bytes; one operation moves at most {int.MaxValue}.", nameof(buffers));
        }

        if (!IsDatagram)
        {
            return;
        }

        ValidateDatagramLength((int)buffers.Length, nameof(buffers));
        int count = 0;
        foreach (ReadOnlyMemory<byte> _ in buffers)
        {
            if (++count > Operation.MaxSegmentsPerCall)
            {
                throw new ArgumentException(
                    $"The sequence has more than {Operation.MaxSegmentsPerCall} segments: one datagram takes at most that many (the OS's IOV_MAX).", nameof(buffers));
            }
        }
    }
}
