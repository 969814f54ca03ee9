using System;
using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;

namespace Proactor.Windows;

/// <summary>
/// An operation of the IOCP backend: it knows how to hand itself to the OS (WSARecv, WSASend,
/// AcceptEx, ConnectEx with its own OVERLAPPED) and how to finish from a completion packet; the
/// socket's queues decide when.
/// </summary>
/// <remarks>
/// Native lifetime. Each object owns one block of native memory (never moved by the GC): the
/// OVERLAPPED first, so the pointer a packet carries is the block's address, then a GCHandle back
/// to the object, the WSABUF, the receive flags and AcceptEx's address area. The block is reused by
/// every use of the pooled object and freed by the finalizer, when the object is finally dropped.
/// From the moment an OS call may take the block until its packet has been processed the object is
/// rooted by that GCHandle (a strong one, allocated per OS hand-off), so neither the object nor the
/// block can be collected while the kernel may still write to them — even if every socket and the
/// engine were dropped. The caller's buffer is pinned (Memory.Pin) from the first OS call to the
/// final completion of the operation, across the re-issues of a partial send.
///
/// States of one use: Start → (synchronous result) | Pending --packet--> [partial send: Pending again]
/// --> finished (unrooted, unpinned) --> the socket calls Complete.
/// </remarks>
internal sealed unsafe partial class IocpOperation : Operation
{
    /// <summary>AcceptEx wants room for each address plus 16 bytes: sizeof(SOCKADDR_IN6) + 16.</summary>
    private const int AcceptAddressLength = 28 + 16;

    private const int AddressAreaLength = 128;

    [StructLayout(LayoutKind.Sequential)]
    private struct NativeBlock
    {
        public NativeOverlapped Overlapped; // first: a packet's OVERLAPPED* is the block's address
        public nint Self;                   // GCHandle (strong) to the operation while the OS owns the block
        public Interop.Winsock.WSABUF Buffer;
        public uint Flags;
        public fixed byte Addresses[AddressAreaLength]; // AcceptEx's two addresses, or ConnectEx's target
    }

    private readonly NativeBlock* _block;
    private MemoryHandle _pin;
    private bool _pinned;
    private volatile bool _abandoned;
    private Socket? _acceptSocket;

    public IocpOperation()
    {
        _block = (NativeBlock*)NativeMemory.AllocZeroed((nuint)sizeof(NativeBlock));
    }

    /// <summary>Runs only when nothing roots the object, i.e. no OS call can still use the block.</summary>
    ~IocpOperation()
    {
        NativeMemory.Free(_block);
    }


    public NativeOverlapped* Overlapped => &_block->Overlapped;

    /// <summary>The operation a dequeued packet belongs to.</summary>
    public static IocpOperation FromOverlapped(NativeOverlapped* overlapped) =>
        (IocpOperation)GCHandle.FromIntPtr(((NativeBlock*)overlapped)->Self).Target!;

    /// <summary>
    /// Hands the operation to the OS on <paramref name="handle"/>. Returns true when a completion
    /// packet will arrive at the port; false when it finished here (result set, buffer unpinned).
    /// With <paramref name="skipsPortOnSuccess"/> an immediate success queues no packet, so it is
    /// finished here; without it, the packet still comes and the operation counts as pending.
    /// </summary>
    public bool Issue(nint handle, bool skipsPortOnSuccess)
    {
        if (_abandoned)
        {
            // Its block may still be the OS's: it is never handed out again (its socket is closed anyway).
            Error = SocketError.OperationAborted;
            return false;
        }

        Root(); // before the call: the packet may be dequeued before the call even returns

        bool pending;
        try
        {
            pending = Kind switch
            {
                OperationKind.Receive when IsMessage => StartMessageReceive(handle, skipsPortOnSuccess),
                OperationKind.Send when IsMessage => StartMessageSend(handle, skipsPortOnSuccess),
                OperationKind.Receive => StartReceive(handle, skipsPortOnSuccess),
                OperationKind.Send => StartSend(handle, skipsPortOnSuccess),
                OperationKind.Accept => StartAccept(handle, skipsPortOnSuccess),
                _ => StartConnect(handle, skipsPortOnSuccess),
            };
        }
        catch
        {
            // Thrown before the OS took the block (the caller's Memory.Pin, the accept socket's
            // creation): nothing is in flight, so nothing may stay rooted or pinned.
            Finish();
            throw;
        }

        if (!pending)
        {
            Finish();
        }

        return pending;
    }

    /// <summary>Roots the object (strong GCHandle in the block) while the OS or the port holds its OVERLAPPED.</summary>
    public void Root()
    {
        if (_block->Self == 0)
        {
            _block->Self = GCHandle.ToIntPtr(GCHandle.Alloc(this));
        }
    }

    /// <summary>Drops the root of <see cref="Root"/>, once the port handed the OVERLAPPED back.</summary>
    public void Unroot()
    {
        if (_block->Self != 0)
        {
            GCHandle.FromIntPtr(_block->Self).Free();
            _block->Self = 0;
        }
    }

    /// <summary>
    /// Completion thread: the packet for this operation arrived. <paramref name="handle"/> is the
    /// socket (0 when it is already closed; <paramref name="closed"/> once Close began). Returns true
    /// when a partial send was issued again (still pending), false when the operation is finished.
    /// </summary>
    public bool OnPacket(nint handle, bool closed, uint bytes, bool skipsPortOnSuccess)
    {
        if (closed || handle == 0)
        {
            // An operation still pending when its socket was closed ends aborted, whatever the
            // packet says: data or end-of-stream that raced with the close is not delivered (the
            // contract of EngineSocket.Close), and the handle value may already name another socket.
            Error = SocketError.OperationAborted;
            Finish();
            return false;
        }

        if ((int)_block->Overlapped.InternalLow != 0)
        {
            // The packet carries an NTSTATUS; Winsock's translation gives what Linux reports
            // (STATUS_CONNECTION_RESET → WSAECONNRESET, STATUS_CANCELLED → WSA_OPERATION_ABORTED).
            uint transferred, flags;
            if (Interop.Winsock.WSAGetOverlappedResult(handle, Overlapped, &transferred, 0, &flags) != 0)
            {
                bytes = transferred; // a success or warning status
            }
            else
            {
                Error = Interop.Errors.ToSocketError(Marshal.GetLastPInvokeError());
            }
        }

        switch (Kind)
        {
            case OperationKind.Receive:
                if (Error == SocketError.Success)
                {
                    BytesTransferred = (int)bytes;
                    if (IsMessage)
                    {
                        CompleteMessageReceive(bytes);
                    }
                }

                break;
            case OperationKind.Send:
                if (Error != SocketError.Success)
                {
                    break;
                }

                BytesTransferred += (int)bytes;
                if (BytesTransferred < TransferLength)
                {
                    if (bytes == 0)
                    {
                        // Success without progress: issuing the rest again would spin; report it.
                        Error = NoProgressError;
                    }
                    else if (CancelRequested)
                    {
                        // A send completes only when every byte is written, unless an end was
                        // requested meanwhile: a cancel that raced with this packet found nothing
                        // to cancel (CancelIoEx had no call in flight), so it is honoured here.
                        Error = SocketError.OperationAborted;
                    }
                    else if (Issue(handle, skipsPortOnSuccess))
                    {
                        return true;
                    }
                }

                break;
            case OperationKind.Accept:
                if (Error == SocketError.Success)
                {
                    FinishAccept(handle);
                }

                if (IsResetInBacklog(Error) && !CancelRequested)
                {
                    // The connection was reset while it waited in the backlog: skip it and accept
                    // the next one, as Kestrel's socket listener and libuv do; one client must not
                    // fail a server's accept loop.
                    Error = SocketError.Success;
                    DropAcceptSocket();
                    if (Issue(handle, skipsPortOnSuccess))
                    {
                        return true;
                    }
                }

                break;
            default:
                if (Error == SocketError.Success)
                {
                    FinishConnect(handle);
                }

                break;
        }

        Finish();
        return false;
    }

    /// <summary>Ends this use with <paramref name="error"/> after an exception: nothing stays rooted, pinned or open.</summary>
    public void FailWith(SocketError error)
    {
        Error = error;
        Finish();
    }

    /// <summary>What a send reports when the stack completed it successfully without taking a byte.</summary>
    private const SocketError NoProgressError = SocketError.NoBufferSpaceAvailable;

    /// <summary>The errors of an accept whose connection was reset or aborted before it was taken
    /// (STATUS_CONNECTION_RESET, STATUS_CONNECTION_ABORTED, and STATUS_CONNECTION_INVALID as Wine reports it).</summary>
    private static bool IsResetInBacklog(SocketError error) =>
        error is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.NotConnected;

    /// <summary>Asks the OS to end this operation early (its packet then reports the outcome).</summary>
    public void CancelIo(nint handle) => Interop.Kernel32.CancelIoEx(handle, Overlapped);

    private bool StartReceive(nint handle, bool skipsPortOnSuccess)
    {
        int length = Buffer.Length;

        // A zero-byte WSARecv waits for readability and consumes nothing: no buffer to pin. It
        // still gets a valid address, for stacks that check the pointer before the length.
        _block->Buffer.len = (uint)length;
        _block->Buffer.buf = length == 0 ? _block->Addresses : PinBuffer();
        _block->Flags = 0;
        ClearOverlapped();
        uint bytes = 0;
        int rc = Interop.Winsock.WSARecv(handle, &_block->Buffer, 1, &bytes, &_block->Flags, Overlapped, 0);
        if (rc == 0)
        {
            BytesTransferred = (int)bytes;
            return !skipsPortOnSuccess;
        }

        return PendingOrFailed(Marshal.GetLastPInvokeError());
    }

    private bool StartSend(nint handle, bool skipsPortOnSuccess)
    {
        byte* data = Buffer.Length == 0 ? null : PinBuffer();
        int maxPiece = ((IocpEngine)Owner.Engine).Hooks.MaxBytesPerSend;
        do
        {
            _block->Buffer.len = (uint)Math.Min(Buffer.Length - BytesTransferred, maxPiece);
            _block->Buffer.buf = data + BytesTransferred;
            ClearOverlapped();
            uint bytes = 0;
            int rc = Interop.Winsock.WSASend(handle, &_block->Buffer, 1, &bytes, 0, Overlapped, 0);
            if (rc != 0)
            {
                return PendingOrFailed(Marshal.GetLastPInvokeError());
            }

            if (!skipsPortOnSuccess)
            {
                return true; // the packet reports the bytes
            }

            BytesTransferred += (int)bytes;
            if (bytes == 0 && BytesTransferred < Buffer.Length)
            {
                // Success without progress: trying again would spin; a short count is no success.
                Error = NoProgressError;
                return false;
            }
        }
        while (BytesTransferred < Buffer.Length);

        return false;
    }

    private bool StartAccept(nint listener, bool skipsPortOnSuccess)
    {
        AddressFamily family = Owner.AddressFamily;
        nint acceptEx = Interop.Winsock.GetAcceptEx(listener, family, out int error);
        if (acceptEx == 0)
        {
            Error = Interop.Errors.ToSocketError(error);
            return false;
        }

        while (true)
        {
            // AcceptEx accepts into a socket made beforehand (WSA_FLAG_OVERLAPPED, as .NET creates them).
            try
            {
                _acceptSocket = new Socket(family, SocketType.Stream, family == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp);
            }
            catch (SocketException e)
            {
                Error = e.SocketErrorCode;
                return false;
            }

            ClearOverlapped();
            uint bytes;
            if (Interop.Winsock.AcceptEx(acceptEx, listener, _acceptSocket.SafeHandle.DangerousGetHandle(), _block->Addresses,
                    AcceptAddressLength, AcceptAddressLength, &bytes, Overlapped, out error))
            {
                if (!skipsPortOnSuccess)
                {
                    return true;
                }

                FinishAccept(listener);
            }
            else if (PendingOrFailed(error))
            {
                return true;
            }

            if (!IsResetInBacklog(Error))
            {
                return false;
            }

            // Reset in the backlog, reported at once: skip it (see OnPacket).
            Error = SocketError.Success;
            DropAcceptSocket();
        }
    }

    private bool StartConnect(nint handle, bool skipsPortOnSuccess)
    {
        if (!EnsureBound(handle))
        {
            return false;
        }

        nint connectEx = Interop.Winsock.GetConnectEx(handle, Owner.AddressFamily, out int error);
        if (connectEx == 0)
        {
            Error = Interop.Errors.ToSocketError(error);
            return false;
        }

        // The target is copied into the block, so nothing managed needs pinning for the connect.
        SocketAddress address = Address!;
        if (address.Size > AddressAreaLength)
        {
            Error = SocketError.AddressFamilyNotSupported;
            return false;
        }

        address.Buffer.Span[..address.Size].CopyTo(new Span<byte>(_block->Addresses, AddressAreaLength));
        ClearOverlapped();
        if (Interop.Winsock.ConnectEx(connectEx, handle, _block->Addresses, address.Size, Overlapped, out error))
        {
            if (!skipsPortOnSuccess)
            {
                return true;
            }

            FinishConnect(handle);
            return false;
        }

        return PendingOrFailed(error);
    }

    /// <summary>ConnectEx refuses an unbound socket (WSAEINVAL): bind to the family's wildcard, port 0,
    /// which is what connect() does implicitly.</summary>
    private bool EnsureBound(nint handle)
    {
        byte* name = stackalloc byte[AddressAreaLength];
        int length = AddressAreaLength;
        bool bound = Interop.Winsock.GetSockName(handle, name, &length) == 0 && length >= 4 && (name[2] | name[3]) != 0;
        if (bound)
        {
            return true;
        }

        try
        {
            IPAddress any = Owner.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
            Owner.EngineSocket.Socket.Bind(new IPEndPoint(any, 0));
            return true;
        }
        catch (SocketException e)
        {
            Error = e.SocketErrorCode;
            return false;
        }
        catch (ObjectDisposedException)
        {
            Error = SocketError.OperationAborted;
            return false;
        }
    }

    /// <summary>Makes the AcceptEx socket a full socket (end points, shutdown) inheriting the listener's options.</summary>
    private void FinishAccept(nint listener)
    {
        Socket accepted = _acceptSocket!;
        if (Interop.Winsock.SetSockOpt(accepted.SafeHandle.DangerousGetHandle(), Interop.Winsock.SOL_SOCKET,
                Interop.Winsock.SO_UPDATE_ACCEPT_CONTEXT, &listener, sizeof(nint)) != 0)
        {
            Error = Interop.Errors.ToSocketError(Marshal.GetLastPInvokeError());
            return;
        }

        _acceptSocket = null;
        AcceptedSocket = accepted;
    }

    /// <summary>Makes a ConnectEx socket a full socket (getpeername, shutdown work on it).</summary>
    private void FinishConnect(nint handle)
    {
        if (Interop.Winsock.SetSockOpt(handle, Interop.Winsock.SOL_SOCKET, Interop.Winsock.SO_UPDATE_CONNECT_CONTEXT, null, 0) != 0)
        {
            Error = Interop.Errors.ToSocketError(Marshal.GetLastPInvokeError());
        }
    }

    private bool PendingOrFailed(int error)
    {
        if (error == Interop.Errors.WSA_IO_PENDING)
        {
            return true;
        }

        // An immediate failure queues no packet.
        Error = Interop.Errors.ToSocketError(error);
        return false;
    }

    private byte* PinBuffer()
    {
        if (!_pinned)
        {
            _pin = Buffer.Pin();
            _pinned = true;
        }

        return (byte*)_pin.Pointer;
    }

    private void ClearOverlapped()
    {
        _block->Overlapped.InternalLow = 0;
        _block->Overlapped.InternalHigh = 0;
        _block->Overlapped.OffsetLow = 0;
        _block->Overlapped.OffsetHigh = 0;
        _block->Overlapped.EventHandle = 0;
    }

    /// <summary>True once <see cref="Abandon"/> gave the block and the pinned buffer up for good.</summary>
    public bool IsAbandoned => _abandoned;

    /// <summary>
    /// Engine shutdown: the OS never returned this call, and no packet will be processed any more.
    /// The operation ends with OperationAborted, but the OS may still write to its OVERLAPPED and
    /// buffer: the strong root (which keeps the object, hence its native block, alive) and the
    /// buffer's pin (and an AcceptEx socket) are kept for the life of the process — a bounded leak
    /// rather than a write into freed or moved memory. The caller gets its buffer back, whose contents the OS could still
    /// change; the operation object is never handed to the OS again.
    /// </summary>
    public void Abandon()
    {
        _abandoned = true;
        Error = SocketError.OperationAborted;
    }

    /// <summary>The OS is done with the block and the buffer: unroot, unpin, drop an unused accept socket.</summary>
    private void Finish()
    {
        if (_abandoned)
        {
            return; // see Abandon: the OS may still have them
        }

        Unroot();
        if (_pinned)
        {
            _pin.Dispose();
            _pin = default;
            _pinned = false;
        }

        UnpinMessage();
        DropAcceptSocket();
    }

    /// <summary>Failed or aborted accept: the pre-made socket never became a connection.</summary>
    private void DropAcceptSocket()
    {
        if (_acceptSocket is { } unused)
        {
            _acceptSocket = null;
            unused.Dispose();
        }
    }
}
