using System;
using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Managed;

/// <summary>
/// An operation of the managed backend: one call of <see cref="Socket"/>'s ValueTask API at a
/// time, with its own reusable <see cref="CancellationTokenSource"/> so that a cancel or a
/// timeout ends just this call and leaves the socket usable.
/// </summary>
/// <remarks>
/// The runtime completes a pending call on one of its I/O threads; the continuation registered
/// here only posts the operation to the engine's loop, which reads the result and completes it
/// (see <see cref="ManagedSocket.OnIoCompleted"/>). Socket's ValueTask calls are backed by the
/// socket's cached event args and the continuation is a delegate made once per operation object,
/// so a steady-state receive or send allocates nothing.
/// </remarks>
internal sealed class ManagedOperation : Operation
{
    private readonly Action _onIoCompleted;
    private CancellationTokenSource? _cts;
    private ValueTask<int> _transfer;
    private ValueTask<Socket> _accept;
    private ValueTask _connect;
    private ValueTask<SocketReceiveMessageFromResult> _message;

    // A scatter receive or a gather datagram send goes through one contiguous buffer rented for
    // the call: Socket's list-of-segments calls are Task-based and take no cancellation token, and
    // a datagram must leave (or arrive) as one call. Rented per call, returned when it ended.
    private byte[]? _staging;

    // Where a datagram receive that names no source writes it: ReceiveFromAsync is the call that
    // reports a truncated datagram (MessageSize) without allocating.
    private SocketAddress? _scratchAddress;

    /// <summary>Room for any UDP datagram (IPv4 and IPv6 without jumbograms).</summary>
    private const int MaxUdpDatagram = 65536;

    // The datagram receive in flight is staged larger than the caller's buffers.
    private bool _detectTruncation;

    public ManagedOperation(ManagedSocket socket)
    {
        Socket = socket;
        _onIoCompleted = () => socket.ManagedEngine.Post(static s => ((ManagedOperation)s!).Socket.OnIoCompleted((ManagedOperation)s!), this);
    }

    public ManagedSocket Socket { get; }

    /// <summary>The call in flight was given up on (see <see cref="ManagedSocket.AbandonCallsInFlight"/>):
    /// its late return, if it ever comes, is ignored. Under the direction's lock.</summary>
    public bool Abandoned { get; set; }

    /// <summary>
    /// Issues the runtime call for the rest of the operation. Returns true when it is pending (the
    /// loop will be told), false when it finished at once: its result fields are then set. A send
    /// the runtime took in part is issued again for the remainder until all of it was taken.
    /// </summary>
    public bool Issue()
    {
        while (true)
        {
            if (CancelRequested)
            {
                // The cancel arrived between two calls of a send (or before the first): nothing of
                // this operation is in the runtime's hands to cancel, so it ends here.
                Error = SocketError.OperationAborted;
                return false;
            }

            if (_cts is null || !_cts.TryReset())
            {
                _cts?.Dispose();
                _cts = new CancellationTokenSource();
            }

            try
            {
                if (StartCall(_cts.Token))
                {
                    return true;
                }
            }
            catch (Exception e)
            {
                // The call refused to start (the socket was closed under it, a bad state): an
                // error of this operation, never of the loop.
                Error = ErrorOf(e);
                ReleaseStaging();
                return false;
            }

            if (!TakeResult())
            {
                return false;
            }
        }
    }

    /// <summary>Starts the call; true when it is pending and the continuation was registered.</summary>
    private bool StartCall(CancellationToken token)
    {
        Socket socket = Socket.Socket;
        switch (Kind)
        {
            case OperationKind.Receive:
                if (!IsMessage)
                {
                    _transfer = socket.ReceiveAsync(Buffer, SocketFlags.None, token);
                    return Await(_transfer.IsCompleted, ref _transfer);
                }

                return StartMessageReceive(socket, token);
            case OperationKind.Send:
                if (!IsMessage)
                {
                    _transfer = socket.SendAsync(Buffer[BytesTransferred..], SocketFlags.None, token);
                    return Await(_transfer.IsCompleted, ref _transfer);
                }

                _transfer = StartMessageSend(socket, token);
                return Await(_transfer.IsCompleted, ref _transfer);
            case OperationKind.Accept:
                _accept = socket.AcceptAsync(token);
                if (_accept.IsCompleted)
                {
                    return false;
                }

                _accept.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onIoCompleted);
                return true;
            default:
                _connect = socket.ConnectAsync(ToEndPoint(Address!), token);
                if (_connect.IsCompleted)
                {
                    return false;
                }

                _connect.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onIoCompleted);
                return true;
        }
    }

    private bool StartMessageReceive(Socket socket, CancellationToken token)
    {
        // A datagram is never left to the OS to truncate: Socket on Unix truncates one longer than
        // the buffer silently, and under Wine a receive that fails with WSAEMSGSIZE completes twice
        // in the runtime's IOCP path, which kills the process ("'overlapped' has already been
        // freed"). Room for any UDP datagram (and one byte more than asked) shows it did not fit.
        _detectTruncation = IsDatagram;
        Memory<byte> target = SegmentCount == 0 && !_detectTruncation
            ? Buffer
            : RentStaging(_detectTruncation ? Math.Max(TransferLength + 1, MaxUdpDatagram) : TransferLength);
        if (WantsPacketInformation)
        {
            EndPoint any = socket.AddressFamily == AddressFamily.InterNetworkV6
                ? new IPEndPoint(IPAddress.IPv6Any, 0)
                : new IPEndPoint(IPAddress.Any, 0);
            _message = socket.ReceiveMessageFromAsync(target, Flags, any, token);
            if (_message.IsCompleted)
            {
                return false;
            }

            _message.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onIoCompleted);
            return true;
        }

        SocketAddress? source = PeerAddress;
        if (source is null && IsDatagram)
        {
            source = _scratchAddress ??= new SocketAddress(socket.AddressFamily);
        }

        if (source is not null)
        {
            // The runtime shrinks Size to the name it received and refuses an address smaller than
            // the family's largest: a reused address gets its full room back for every call.
            source.Size = source.Buffer.Length;
            _transfer = socket.ReceiveFromAsync(target, Flags, source, token);
        }
        else
        {
            _transfer = socket.ReceiveAsync(target, Flags, token);
        }

        return Await(_transfer.IsCompleted, ref _transfer);
    }

    private ValueTask<int> StartMessageSend(Socket socket, CancellationToken token)
    {
        ReadOnlyMemory<byte> data;
        if (SegmentCount == 0)
        {
            data = IsDatagram ? Buffer : Buffer[BytesTransferred..];
        }
        else if (IsDatagram)
        {
            // One datagram of all the buffers: gathered into one contiguous copy.
            Memory<byte> staging = RentStaging(TransferLength);
            int offset = 0;
            for (int i = 0; i < SegmentCount; i++)
            {
                Memory<byte> segment = MessageBuffer(i);
                segment.CopyTo(staging[offset..]);
                offset += segment.Length;
            }

            data = staging;
        }
        else
        {
            // A stream's gather send goes out buffer by buffer within this one operation (the
            // direction's FIFO keeps anything else from interleaving): no copy, no allocation.
            data = default;
            int skip = BytesTransferred;
            for (int i = 0; i < SegmentCount; i++)
            {
                Memory<byte> segment = MessageBuffer(i);
                if (skip < segment.Length)
                {
                    data = segment[skip..];
                    break;
                }

                skip -= segment.Length;
            }
        }

        return PeerAddress is { } target
            ? socket.SendToAsync(data, Flags, target, token)
            : socket.SendAsync(data, Flags, token);
    }

    private Memory<byte> RentStaging(int length)
    {
        _staging = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        return _staging.AsMemory(0, length);
    }

    private void ReleaseStaging()
    {
        if (_staging is { } staging)
        {
            _staging = null;
            ArrayPool<byte>.Shared.Return(staging);
        }
    }

    /// <summary>A message receive finished with <paramref name="bytes"/>: the staged bytes go to the caller's buffers.</summary>
    private void ScatterStaged(int bytes)
    {
        if (_staging is not { } staging)
        {
            return;
        }

        int offset = 0;
        for (int i = 0; i < MessageBufferCount && offset < bytes; i++)
        {
            Memory<byte> segment = MessageBuffer(i);
            int length = Math.Min(segment.Length, bytes - offset);
            staging.AsSpan(offset, length).CopyTo(segment.Span);
            offset += length;
        }
    }

    private bool Await(bool completed, ref ValueTask<int> call)
    {
        if (completed)
        {
            return false;
        }

        call.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onIoCompleted);
        return true;
    }

    /// <summary>
    /// Reads the finished call's result into the operation (exactly once per call: the runtime
    /// recycles its event args then). Returns true when the call must be issued again: a send
    /// goes on with its remainder, a zero-byte receive answered with nothing there waits again.
    /// </summary>
    public bool TakeResult()
    {
        try
        {
            switch (Kind)
            {
                case OperationKind.Receive:
                    if (IsMessage && WantsPacketInformation)
                    {
                        SocketReceiveMessageFromResult message = _message.GetAwaiter().GetResult();
                        int length = message.ReceivedBytes;
                        SocketFlags flags = message.SocketFlags;
                        if (_detectTruncation && length > TransferLength)
                        {
                            length = TransferLength;
                            flags |= SocketFlags.Truncated;
                        }

                        BytesTransferred = length;
                        ScatterStaged(length);
                        SocketAddress name = message.RemoteEndPoint.Serialize();
                        SetReceivedAddress(name.Buffer.Span[..name.Size]);
                        if (message.PacketInformation.Address is { } destination)
                        {
                            SetPacketInformation(destination, message.PacketInformation.Interface);
                        }

                        SetReceivedFlags(flags);
                        return false;
                    }

                    int received = _transfer.GetAwaiter().GetResult();
                    if (_detectTruncation && received > TransferLength)
                    {
                        received = TransferLength;
                        SetReceivedFlags(SocketFlags.Truncated);
                    }

                    BytesTransferred = received;
                    ScatterStaged(received);
                    return Buffer.Length == 0 && !IsMessage && AnsweredWithNothingThere();
                case OperationKind.Send:
                    int sent = _transfer.GetAwaiter().GetResult();
                    BytesTransferred += sent;

                    // A datagram leaves whole or not at all.
                    return !IsDatagram && sent > 0 && BytesTransferred < TransferLength;
                case OperationKind.Accept:
                    AcceptedSocket = _accept.GetAwaiter().GetResult();
                    return false;
                default:
                    _connect.GetAwaiter().GetResult();
                    return false;
            }
        }
        catch (Exception e)
        {
            Error = ErrorOf(e);
            if (Kind == OperationKind.Accept && Error is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.NotConnected)
            {
                // A connection reset while it waited in the backlog (Winsock's AcceptEx reports
                // it, some stacks as NotConnected): not the listener's failure; accept the next.
                Error = SocketError.Success;
                return true;
            }

            return false;
        }
        finally
        {
            _transfer = default;
            _accept = default;
            _connect = default;
            _message = default;
            ReleaseStaging();
        }
    }

    /// <summary>
    /// A zero-byte receive (a wait for data) finished: true when nothing is there to read, no end
    /// and no error, so it must wait again. On Unix the runtime completes a queued zero-byte
    /// receive from the readiness event alone, without a syscall, and an event can come after the
    /// receive ahead of it already took the bytes it announced; every other backend completes a
    /// wait only when data, the end or an error is there. One <c>poll</c> with no timeout tells.
    /// Windows completes a zero-byte receive only when data arrives.
    /// </summary>
    private bool AnsweredWithNothingThere() =>
        !OperatingSystem.IsWindows() && !Socket.Socket.Poll(0, SelectMode.SelectRead);

    /// <summary>Asks the runtime to end the pending call (its completion still comes, aborted).</summary>
    public void CancelCall() => _cts?.Cancel();

    private static SocketError ErrorOf(Exception e) => e switch
    {
        SocketException s => s.SocketErrorCode,
        OperationCanceledException or ObjectDisposedException => SocketError.OperationAborted,
        _ => SocketError.SocketError,
    };

    private static EndPoint ToEndPoint(SocketAddress address) => address.Family switch
    {
        AddressFamily.Unix => new UnixDomainSocketEndPoint("/").Create(address),
        AddressFamily.InterNetworkV6 => new IPEndPoint(IPAddress.IPv6Any, 0).Create(address),
        _ => new IPEndPoint(IPAddress.Any, 0).Create(address),
    };
}
