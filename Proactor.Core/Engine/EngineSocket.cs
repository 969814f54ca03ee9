using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;

namespace Proactor;

/// <summary>
/// The contract every backend implements for one registered socket: start an operation, cancel
/// it, close the socket. Emulated backends perform the I/O themselves after readiness; native
/// backends hand the operation to the OS (an overlapped call, an SQE) and complete it from the
/// OS's completion (a port packet, a CQE).
/// </summary>
/// <remarks>
/// Ownership: after <see cref="Start"/> returns true the backend owns the operation (and its buffer)
/// until it calls <see cref="Operation.Complete"/>, exactly once. <see cref="Cancel"/> and
/// <see cref="Close"/> only request an end; the backend's completion decides.
/// </remarks>
internal abstract partial class EngineSocket
{
    // The runtime's Socket (with its SafeSocketHandle and the end points it reads at creation) is
    // about 320 bytes per connection: an accepted connection on Linux runs on its bare descriptor
    // and makes one only when something needs it (see CreateControlSocket). One field holds what
    // the socket has: a Socket; a bare descriptor (a SafeHandle); or both (DescriptorAndSocket).
    private object _os;
    private readonly short _addressFamily;
    private readonly byte _socketType;
    private bool _descriptorClosed;

    protected EngineSocket(ProactorEngine engine, Socket socket)
    {
        Engine = engine;
        _os = socket;
        _addressFamily = (short)socket.AddressFamily;
        _socketType = (byte)socket.SocketType;
    }

    /// <summary>A stream socket on its bare descriptor (an accepted connection): no runtime
    /// <see cref="System.Net.Sockets.Socket"/> until <see cref="Socket"/> is asked for.</summary>
    protected EngineSocket(ProactorEngine engine, SafeHandle descriptor, AddressFamily addressFamily)
    {
        Engine = engine;
        _os = descriptor;
        _addressFamily = (short)addressFamily;
        _socketType = (byte)SocketType.Stream;
    }

    public ProactorEngine Engine { get; }

    /// <summary>The descriptor the engine performs I/O on (the runtime Socket's own handle when
    /// the socket was created through one).</summary>
    /// <remarks>Read from the Socket on each use, not at registration: on Unix reading
    /// <see cref="Socket.SafeHandle"/> marks the handle exposed, after which the runtime refuses
    /// to connect again after a failed connect (the managed backend relies on it).</remarks>
    public SafeHandle Handle => Volatile.Read(ref _os) switch
    {
        SafeHandle descriptor => descriptor,
        Socket socket => socket.SafeHandle,
        var both => ((DescriptorAndSocket)both).Descriptor,
    };

    public AddressFamily AddressFamily => (AddressFamily)_addressFamily;

    public SocketType SocketType => (SocketType)_socketType;

    /// <summary>True once a runtime <see cref="System.Net.Sockets.Socket"/> exists for this socket.</summary>
    public bool HasSocket => Volatile.Read(ref _os) is not SafeHandle;

    /// <summary>The OS socket: the control plane (bind, listen, options, shutdown) goes through it.
    /// For a socket on a bare descriptor it is made on first use.</summary>
    /// <exception cref="ObjectDisposedException">It had to be made, and the descriptor is closed.</exception>
    public Socket Socket => Volatile.Read(ref _os) switch
    {
        Socket socket => socket,
        DescriptorAndSocket both => both.Socket,
        _ => CreateSocketOnce(),
    };

    private Socket CreateSocketOnce()
    {
        // Under the socket's own monitor (no lock object per connection), so a close cannot slip
        // between the check and the creation and leave a Socket nobody disposes.
        lock (this)
        {
            if (_os is SafeHandle descriptor)
            {
                if (_descriptorClosed)
                {
                    throw new ObjectDisposedException(nameof(ProactorSocket), $"The {nameof(ProactorSocket)} was disposed.");
                }

                Volatile.Write(ref _os, new DescriptorAndSocket(descriptor, CreateControlSocket()));
            }

            return ((DescriptorAndSocket)_os).Socket;
        }
    }

    /// <summary>A bare descriptor and the runtime Socket made for it later (on a duplicate).</summary>
    private sealed class DescriptorAndSocket(SafeHandle descriptor, Socket socket)
    {
        public SafeHandle Descriptor { get; } = descriptor;

        public Socket Socket { get; } = socket;
    }

    /// <summary>Makes the runtime <see cref="System.Net.Sockets.Socket"/> of a socket that runs on a bare
    /// descriptor. Only backends that register such sockets (<see cref="ProactorEngine.RegisterAccepted"/>) override it.</summary>
    protected virtual Socket CreateControlSocket() =>
        throw new InvalidOperationException($"The {Engine.Name} backend registers every socket with its runtime Socket.");

    /// <summary>Closes the OS socket: the runtime Socket if one was made, and the descriptor. Once.</summary>
    protected void DisposeDescriptor()
    {
        object os;
        lock (this)
        {
            _descriptorClosed = true;
            os = _os;
        }

        switch (os)
        {
            case Socket socket:
                socket.Dispose(); // its own handle goes with it
                break;
            case SafeHandle descriptor:
                descriptor.Dispose();
                break;
            default:
                // The Socket made later holds a duplicate of the descriptor: closing it first leaves
                // the connection's end (the FIN, a linger) to the last close, the descriptor's own.
                var both = (DescriptorAndSocket)os;
                both.Socket.Dispose();
                both.Descriptor.Dispose();
                break;
        }
    }

    /// <summary>Sets an integer option straight on the descriptor, for a socket without a runtime
    /// Socket. False when the backend has no such path for the option (the caller then uses
    /// <see cref="Socket"/>). Throws <see cref="SocketException"/> when the OS refuses.</summary>
    public virtual bool TrySetOption(SocketOptionLevel level, SocketOptionName name, int value) => false;

    /// <summary>Reads an integer option straight from the descriptor; as <see cref="TrySetOption"/>.</summary>
    public virtual bool TryGetOption(SocketOptionLevel level, SocketOptionName name, out int value)
    {
        value = 0;
        return false;
    }

    /// <summary>Bytes the backend has taken from the kernel ahead of the receives that will read
    /// them (io_uring's held data): <see cref="ProactorSocket.Available"/> counts them with what
    /// the kernel still holds. Any thread.</summary>
    public virtual int HeldReceiveBytes => 0;

    /// <summary>shutdown(2) straight on the descriptor; false when the backend has no such path.
    /// Throws <see cref="SocketException"/> when the OS refuses.</summary>
    public virtual bool TryShutdown(SocketShutdown how) => false;

    /// <summary>Makes a new operation object of this backend's kind (pooled by the caller).</summary>
    public abstract Operation CreateOperation();

    /// <summary>
    /// True when a finished operation of this backend may serve any socket of the same engine: it
    /// keeps nothing of the socket it last ran on that a later start does not set again, and a late
    /// request for an earlier use (a cancel) is told apart by the backend. The socket then returns
    /// its idle operations to <see cref="ProactorEngine.IdleOperations"/> instead of keeping one per
    /// direction, so an idle connection holds only what is in flight.
    /// </summary>
    public virtual bool SharesOperations => false;

    /// <summary>
    /// Starts <paramref name="operation"/>. Returns false when it completed synchronously (its result
    /// fields are set and the backend no longer holds it; <see cref="Operation.Complete"/> is not
    /// called); true when it is pending and will be completed later through <see cref="Operation.Complete"/>.
    /// </summary>
    public abstract bool Start(Operation operation);

    /// <summary>Requests cancellation of a pending operation. Harmless when it already completed.</summary>
    public abstract void Cancel(Operation operation);

    /// <summary>True when the backend performs file sends (<see cref="Operation.SendFileHandle"/>) in
    /// the kernel; otherwise the socket sends files by reading them and sending the bytes.</summary>
    public virtual bool SupportsFileSend => false;

    /// <summary>False when the OS socket cannot connect again after a failed connect (Winsock after a
    /// failed ConnectEx): a connect to several addresses then gives each attempt a fresh OS socket.</summary>
    public virtual bool CanConnectAgainAfterFailedConnect => true;

    /// <summary>Test hook: the backend's file send behaves as if the kernel refused it (EINVAL), so the
    /// read+send fallback carries the bytes.</summary>
    internal bool SimulateFileSendUnsupported;

    /// <summary>Prepares a listening socket (called after the OS listen succeeded).</summary>
    public virtual void OnListening()
    {
    }

    /// <summary>
    /// Closes the socket: every pending operation completes exactly once with
    /// <see cref="SocketError.OperationAborted"/>, and the OS handle is released only when no
    /// operation can still touch it or its buffers.
    /// </summary>
    public abstract void Close();

    public abstract EndPoint? GetLocalEndPoint();

    public abstract EndPoint? GetRemoteEndPoint();
}
