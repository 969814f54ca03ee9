using System;
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
                _transfer = socket.ReceiveAsync(Buffer, SocketFlags.None, token);
                return Await(_transfer.IsCompleted, ref _transfer);
            case OperationKind.Send:
                _transfer = socket.SendAsync(Buffer[BytesTransferred..], SocketFlags.None, token);
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
    /// recycles its event args then). Returns true when a send must go on with its remainder.
    /// </summary>
    public bool TakeResult()
    {
        try
        {
            switch (Kind)
            {
                case OperationKind.Receive:
                    BytesTransferred = _transfer.GetAwaiter().GetResult();
                    return false;
                case OperationKind.Send:
                    int sent = _transfer.GetAwaiter().GetResult();
                    BytesTransferred += sent;
                    return sent > 0 && BytesTransferred < Buffer.Length;
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
        }
    }

    /// <summary>Asks the runtime to end the pending call (its completion still comes, aborted).</summary>
    public void CancelCall() => _cts?.Cancel();

    private static SocketError ErrorOf(Exception e) => e switch
    {
        SocketException s => s.SocketErrorCode,
        OperationCanceledException or ObjectDisposedException => SocketError.OperationAborted,
        _ => SocketError.SocketError,
    };

    private static IPEndPoint ToEndPoint(SocketAddress address) =>
        (IPEndPoint)new IPEndPoint(address.Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(address);
}
