using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor;

/// <summary>
/// A stream socket (TCP, or a Unix domain socket) whose operations run on a <see cref="ProactorEngine"/>: shaped like
/// <see cref="System.Net.Sockets.Socket"/>, with awaitable operations that allocate nothing in
/// steady state.
/// </summary>
/// <remarks>
/// At most one receive and one send may be awaited at a time without allocating; more may be
/// outstanding (each direction completes in submission order), at the cost of one operation object
/// each. Disposing the socket completes every pending operation once with a
/// <see cref="SocketException"/> of <see cref="SocketError.OperationAborted"/>.
/// </remarks>
public sealed partial class ProactorSocket : IDisposable
{
    // Every idle connection carries one of these objects: keep its fields few (the engine, the
    // OS socket and its family come from the engine socket, the spares share one holder, the
    // dispatch is a byte).
    private EngineSocket _engineSocket; // replaced only between the attempts of a multi-address connect (ProactorSocket.Reconnect.cs)
    private int _disposed;
    private volatile bool _listening;
    private volatile bool _connected;
    private volatile bool _disconnected; // Connected's "no longer": a connection error or Shutdown
    private byte _dispatch; // 0: follow the engine; otherwise the CompletionDispatch + 1

    /// <summary>Creates a TCP socket, or with <see cref="AddressFamily.Unix"/> a Unix domain stream
    /// socket, on <paramref name="engine"/>.</summary>
    /// <param name="engine">The engine that will run the socket's operations.</param>
    /// <param name="addressFamily"><see cref="AddressFamily.InterNetwork"/>, <see cref="AddressFamily.InterNetworkV6"/>
    /// or <see cref="AddressFamily.Unix"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="engine"/> is null.</exception>
    /// <exception cref="ArgumentException">The address family is not IPv4 or IPv6.</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    public ProactorSocket(ProactorEngine engine, AddressFamily addressFamily)
    {
        ArgumentNullException.ThrowIfNull(engine);
        engine.ThrowIfDisposed();
        if (addressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 or AddressFamily.Unix))
        {
            throw new ArgumentException(
                $"Address family {addressFamily} is not supported; use InterNetwork (IPv4), InterNetworkV6 (IPv6) or Unix.",
                nameof(addressFamily));
        }

        _engineSocket = RegisterOrDispose(engine, new Socket(addressFamily, SocketType.Stream, addressFamily == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp));
        engine.OnSocketOpened();
    }

    /// <summary>Wraps a connection accepted by a backend.</summary>
    internal ProactorSocket(ProactorEngine engine, Socket accepted)
    {
        engine.ThrowIfDisposed();
        _connected = true;
        _engineSocket = RegisterOrDispose(engine, accepted);
        engine.OnSocketOpened();
    }

    /// <summary>Wraps a connection accepted by a backend as a bare descriptor (no runtime Socket until
    /// one is needed): an idle connection then costs the descriptor's handle, not a Socket with its
    /// end points.</summary>
    internal ProactorSocket(ProactorEngine engine, SafeHandle accepted, AddressFamily addressFamily)
    {
        engine.ThrowIfDisposed();
        _connected = true;
        try
        {
            _engineSocket = engine.RegisterAccepted(this, accepted, addressFamily);
        }
        catch
        {
            accepted.Dispose();
            throw;
        }

        engine.OnSocketOpened();
    }

    private EngineSocket RegisterOrDispose(ProactorEngine engine, Socket socket)
    {
        try
        {
            return engine.Register(this, socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Creates an IPv4 or IPv6 socket bound to <paramref name="localEndPoint"/> and listening.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="SocketException">The bind or listen failed (e.g. the address is in use).</exception>
    public static ProactorSocket CreateListener(ProactorEngine engine, IPEndPoint localEndPoint, int backlog = 512)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        return BindAndListen(new ProactorSocket(engine, localEndPoint.AddressFamily), localEndPoint, backlog);
    }

    /// <summary>Binds and listens a new socket (IPv6 dual-mode first when asked); disposes it when
    /// any step fails.</summary>
    private static ProactorSocket BindAndListen(ProactorSocket socket, EndPoint localEndPoint, int backlog, bool dualMode = false)
    {
        try
        {
            if (dualMode)
            {
                socket.DualMode = true;
            }

            socket.Bind(localEndPoint);
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The engine that runs this socket's operations.</summary>
    public ProactorEngine Engine => _engineSocket.Engine;

    /// <summary>The address family of the socket.</summary>
    public AddressFamily AddressFamily => _engineSocket.AddressFamily;

    /// <summary>The OS handle, for options this type does not expose. Do not perform I/O on it.</summary>
    /// <remarks>A connection accepted on Linux runs on its bare descriptor, without a runtime
    /// <see cref="Socket"/>, so an idle one costs less: its handle is made on first use, and is then
    /// a duplicate descriptor (<c>F_DUPFD_CLOEXEC</c>) of the same socket, closed with it. Options
    /// and shutdown through it act on the connection as through the original.</remarks>
    /// <exception cref="ObjectDisposedException">The handle had to be made, and the socket was disposed.</exception>
    public SafeSocketHandle SafeHandle => OsSocket.SafeHandle;

    /// <summary>The runtime socket, for the control plane (bind, listen, options); made on first use
    /// for an accepted connection (see <see cref="SafeHandle"/>).</summary>
    private Socket OsSocket => _engineSocket.Socket;

    /// <summary>True after <see cref="Listen"/>.</summary>
    public bool IsListening => _listening;

    /// <summary>True once <see cref="Dispose"/> has begun.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    internal EngineSocket EngineSocket => _engineSocket;

    /// <summary>
    /// How continuations of this socket's awaited operations run; null (the default) follows the
    /// engine's <see cref="EngineOptions.Dispatch"/>. <see cref="CompletionDispatch.Queue"/> is an
    /// engine-wide choice and cannot be set per socket.
    /// </summary>
    /// <exception cref="ArgumentException">The value is <see cref="CompletionDispatch.Queue"/>,
    /// or the engine uses <see cref="CompletionDispatch.Queue"/>.</exception>
    public CompletionDispatch? Dispatch
    {
        get => _dispatch == 0 ? null : (CompletionDispatch)(_dispatch - 1);
        set
        {
            if (value == CompletionDispatch.Queue || (value is not null && Engine.Dispatch == CompletionDispatch.Queue))
            {
                throw new ArgumentException(
                    "CompletionDispatch.Queue is chosen per engine (EngineOptions.Dispatch), and a queue engine's sockets have no awaitable continuations to dispatch.",
                    nameof(value));
            }

            _dispatch = value is { } d ? (byte)((int)d + 1) : (byte)0;
        }
    }

    internal CompletionDispatch EffectiveDispatch => _dispatch == 0 ? Engine.Dispatch : (CompletionDispatch)(_dispatch - 1);

    /// <summary>The local end point, or null when the socket is neither bound nor connected.</summary>
    public EndPoint? LocalEndPoint
    {
        get
        {
            ThrowIfDisposed();
            return _engineSocket.GetLocalEndPoint();
        }
    }

    /// <summary>The peer's end point, or null when the socket is not connected.</summary>
    public EndPoint? RemoteEndPoint
    {
        get
        {
            ThrowIfDisposed();
            return _engineSocket.GetRemoteEndPoint();
        }
    }

    /// <summary>Binds the socket to a local end point.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="localEndPoint"/> is null.</exception>
    /// <exception cref="SocketException">The OS refused the address (e.g. in use).</exception>
    public void Bind(EndPoint localEndPoint)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(localEndPoint);
        OsSocket.Bind(localEndPoint);
    }

    /// <summary>Starts listening for connections.</summary>
    /// <param name="backlog">The OS accept queue length (capped by the OS).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="backlog"/> is negative.</exception>
    public void Listen(int backlog = 512)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(backlog);
        ThrowIfDatagram(nameof(Listen));
        OsSocket.Listen(backlog);
        _listening = true;
        _engineSocket.OnListening();
    }

    /// <summary>Accepts one connection. The returned socket runs on the same engine (or, with a
    /// loop group, on the sub loop the group chose).</summary>
    /// <exception cref="InvalidOperationException">The socket is not listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public ValueTask<ProactorSocket> AcceptAsync(CancellationToken cancellationToken = default)
    {
        ValidateAwaitable(OperationKind.Accept);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ProactorSocket>(cancellationToken);
        }

        Operation op = Rent(OperationKind.Accept);
        op.Prepare(OperationKind.Accept, this, default, null, null, null);
        if (!_engineSocket.Start(op))
        {
            op.OnCompletedSynchronously();
            SocketError error = op.Error;
            ProactorSocket? accepted = op.TakeAcceptedSocket();
            Exception? exception = error == SocketError.Success ? null : op.CreateException();
            op.Release();
            return exception is null ? new ValueTask<ProactorSocket>(accepted!) : ValueTask.FromException<ProactorSocket>(exception);
        }

        op.RegisterCancellation(cancellationToken);
        return new ValueTask<ProactorSocket>(op, op.Version);
    }

    /// <summary>Connects to <paramref name="remoteEndPoint"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="remoteEndPoint"/> is null.</exception>
    /// <exception cref="ArgumentException">The end point is not an <see cref="IPEndPoint"/> of the socket's family.</exception>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public ValueTask ConnectAsync(EndPoint remoteEndPoint, CancellationToken cancellationToken = default) =>
        ConnectAsync(remoteEndPoint, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Connects to <paramref name="remoteEndPoint"/>, failing with
    /// <see cref="SocketError.TimedOut"/> after <paramref name="timeout"/>.</summary>
    /// <remarks>
    /// As with <see cref="Socket"/>, a connect that timed out or was cancelled leaves the socket
    /// unusable: the OS may still be completing the handshake, and a second connect on it fails
    /// (<see cref="SocketError.AlreadyInProgress"/> or similar). Dispose it and connect a new socket.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="remoteEndPoint"/> is null.</exception>
    /// <exception cref="ArgumentException">The end point is not an <see cref="IPEndPoint"/> of the socket's family.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is zero or negative (other than infinite).</exception>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public ValueTask ConnectAsync(EndPoint remoteEndPoint, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateTimeout(timeout);
        ValidateAwaitable(OperationKind.Connect);
        if (remoteEndPoint is DnsEndPoint dns)
        {
            return ConnectToNameAsync(dns, timeout, cancellationToken);
        }

        SocketAddress address = SerializeRemote(remoteEndPoint);
        if (IsDatagram)
        {
            return ConnectDatagram(remoteEndPoint, cancellationToken);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        Operation op = Rent(OperationKind.Connect);
        op.Prepare(OperationKind.Connect, this, default, address, null, null);
        if (!_engineSocket.Start(op))
        {
            Exception? exception = op.Error == SocketError.Success ? null : op.CreateException();
            op.Release();
            if (exception is null)
            {
                OnConnected();
                return ValueTask.CompletedTask;
            }

            return ValueTask.FromException(exception);
        }

        op.RegisterCancellation(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            op.ScheduleTimeout(timeout);
        }

        return new ValueTask(op, op.Version);
    }

    /// <summary>Receives into <paramref name="buffer"/>. Completes with the byte count, 0 when the
    /// peer closed its side. A zero-length buffer waits until data (or the end) is available
    /// without holding any buffer.</summary>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ValidateAwaitable(OperationKind.Receive);
        return StartTransfer(OperationKind.Receive, buffer, Timeout.InfiniteTimeSpan, cancellationToken);
    }

    /// <summary>Receives into <paramref name="buffer"/>, failing with <see cref="SocketError.TimedOut"/>
    /// when nothing arrives within <paramref name="timeout"/>. The deadline is kept by the engine's
    /// loop; a timed-out receive took no data and the socket stays usable.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is zero or negative (other than infinite).</exception>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateTimeout(timeout);
        ValidateAwaitable(OperationKind.Receive);
        return StartTransfer(OperationKind.Receive, buffer, timeout, cancellationToken);
    }

    /// <summary>Receives into <paramref name="buffer"/> from <paramref name="offset"/>, at most <paramref name="count"/> bytes.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range lies outside the array.</exception>
    public ValueTask<int> ReceiveAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken = default)
    {
        ValidateArray(buffer, offset, count);
        return ReceiveAsync(buffer.AsMemory(offset, count), cancellationToken);
    }

    /// <summary>Sends every byte of <paramref name="buffer"/>; completes with its length once all
    /// of it was handed to the OS.</summary>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ValidateAwaitable(OperationKind.Send);
        return StartTransfer(OperationKind.Send, MemoryMarshal.AsMemory(buffer), Timeout.InfiniteTimeSpan, cancellationToken);
    }

    /// <summary>Sends every byte of <paramref name="buffer"/>, failing with
    /// <see cref="SocketError.TimedOut"/> when that takes longer than <paramref name="timeout"/>
    /// (then an unknown prefix of the buffer may have been sent).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is zero or negative (other than infinite).</exception>
    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateTimeout(timeout);
        ValidateAwaitable(OperationKind.Send);
        return StartTransfer(OperationKind.Send, MemoryMarshal.AsMemory(buffer), timeout, cancellationToken);
    }

    /// <summary>Sends <paramref name="count"/> bytes of <paramref name="buffer"/> from <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range lies outside the array.</exception>
    public ValueTask<int> SendAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken = default)
    {
        ValidateArray(buffer, offset, count);
        return SendAsync(buffer.AsMemory(offset, count), cancellationToken);
    }

    /// <summary><see cref="ProactorStream"/>'s receive: errors as <see cref="System.IO.IOException"/>.</summary>
    internal ValueTask<int> ReceiveForStreamAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ValidateAwaitable(OperationKind.Receive);
        return StartTransfer(OperationKind.Receive, buffer, Timeout.InfiniteTimeSpan, cancellationToken, forStream: true);
    }

    /// <summary><see cref="ProactorStream"/>'s send: a non-generic <see cref="ValueTask"/> backed by
    /// the pooled operation itself (no box per pending write), errors as <see cref="System.IO.IOException"/>.</summary>
    internal ValueTask SendForStreamAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        ValidateAwaitable(OperationKind.Send);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        Operation op = Rent(OperationKind.Send);
        op.Prepare(OperationKind.Send, this, MemoryMarshal.AsMemory(buffer), null, null, null);
        op.ReportErrorsAsStream();
        if (!_engineSocket.Start(op))
        {
            Exception? exception = op.Error == SocketError.Success ? null : op.CreateException();
            op.Release();
            return exception is null ? default : ValueTask.FromException(exception);
        }

        op.RegisterCancellation(cancellationToken);
        return new ValueTask(op, op.Version);
    }

    private ValueTask<int> StartTransfer(OperationKind kind, Memory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken, bool forStream = false)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        Operation op = Rent(kind);
        op.Prepare(kind, this, buffer, null, null, null);
        if (forStream)
        {
            op.ReportErrorsAsStream();
        }

        if (!_engineSocket.Start(op))
        {
            int bytes = op.BytesTransferred;
            Exception? exception = op.Error == SocketError.Success ? null : op.CreateException();
            op.Release();
            return exception is null ? new ValueTask<int>(bytes) : ValueTask.FromException<int>(exception);
        }

        op.RegisterCancellation(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            op.ScheduleTimeout(timeout);
        }

        return new ValueTask<int>(op, op.Version);
    }

    /// <summary>The completion-queue path: every outcome is posted to <paramref name="queue"/>.</summary>
    internal void Submit(OperationKind kind, Memory<byte> buffer, SocketAddress? address, CompletionQueue queue, object? userToken, CancellationToken cancellationToken)
    {
        Validate(kind);
        if (cancellationToken.IsCancellationRequested)
        {
            queue.Post(new Completion(kind, this, buffer, 0, SocketError.OperationAborted, true, userToken, null));
            return;
        }

        Operation op = Rent(kind);
        op.Prepare(kind, this, buffer, address, queue, userToken);
        if (!_engineSocket.Start(op))
        {
            op.OnCompletedSynchronously();
            queue.Post(op.ToCompletion());
            op.Release();
            return;
        }

        op.RegisterCancellation(cancellationToken);
        op.ReleaseQueueReference();
    }

    /// <summary>Disables sends, receives or both (an orderly close of our side for <see cref="SocketShutdown.Send"/>).</summary>
    /// <exception cref="SocketException">The OS refused (e.g. the socket is not connected).</exception>
    /// <remarks>As with <see cref="Socket.Shutdown"/>, a socket that was connected may be shut down
    /// after its connection ended (a reset, the peer's close): the OS's "not connected" is then no error.</remarks>
    public void Shutdown(SocketShutdown how)
    {
        ThrowIfDisposed();
        try
        {
            if (!_engineSocket.TryShutdown(how))
            {
                OsSocket.Shutdown(how);
            }

            _disconnected = true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NotConnected && _connected)
        {
            // The connection reached CLOSE (reset, or both sides closed): nothing left to shut
            // down. System.Net.Sockets and Winsock report success here too.
        }
    }

    /// <summary>Called when a connect of this socket succeeded.</summary>
    internal void OnConnected()
    {
        _connected = true;
        _disconnected = false;
    }

    /// <summary>
    /// Closes the socket. Every pending operation completes once with
    /// <see cref="SocketError.OperationAborted"/>; buffers are released only after that.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        CloseReactor();
        _engineSocket.Close();
        Engine.OnSocketClosed();
    }

    private Operation Rent(OperationKind kind)
    {
        EngineSocket engineSocket = _engineSocket;
        if (engineSocket.SharesOperations)
        {
            // The engine's idle objects: this socket holds one only while it is in flight, so an
            // idle connection (a receive pending, nothing to send) keeps no send operation.
            return Engine.IdleOperations.TryRent() ?? engineSocket.CreateOperation();
        }

        // One operation per direction at a time is the common case: a lock-free slot. Overlapping
        // operations (many queued sends, a batch on the completion queue) reuse spares, so a
        // steady state with N in flight allocates nothing either.
        bool receiveSide = IsReceiveSide(kind);
        RareState rare = Rare;
        ref Operation? slot = ref receiveSide ? ref rare.CachedReceive : ref rare.CachedSend;
        return Interlocked.Exchange(ref slot, null)
            ?? (receiveSide ? rare.Receives : rare.Sends)?.TryRent()
            ?? engineSocket.CreateOperation();
    }

    internal void ReturnOperation(Operation operation)
    {
        if (_engineSocket.SharesOperations)
        {
            Engine.IdleOperations.Return(operation, 2 * Engine.SocketCount);
            return;
        }

        bool receiveSide = IsReceiveSide(operation.Kind);
        RareState rare = Rare;
        ref Operation? slot = ref receiveSide ? ref rare.CachedReceive : ref rare.CachedSend;
        if (Interlocked.CompareExchange(ref slot, operation, null) is null)
        {
            return;
        }

        ref OperationPool? spares = ref receiveSide ? ref rare.Receives : ref rare.Sends;
        if (spares is null)
        {
            Interlocked.CompareExchange(ref spares, new OperationPool(), null);
        }

        spares.Return(operation, OperationPool.MinimumCapacity); // a burst does not pin memory for the socket's lifetime
    }

    private static bool IsReceiveSide(OperationKind kind) => kind is OperationKind.Receive or OperationKind.Accept;

    internal SocketAddress SerializeRemote(EndPoint remoteEndPoint)
    {
        ArgumentNullException.ThrowIfNull(remoteEndPoint);
        if (remoteEndPoint is UnixDomainSocketEndPoint unix)
        {
            return SerializeUnix(unix, nameof(remoteEndPoint));
        }

        if (remoteEndPoint is not IPEndPoint ip)
        {
            throw new ArgumentException(
                $"Only IPEndPoint, UnixDomainSocketEndPoint and DnsEndPoint are supported, not {remoteEndPoint.GetType().Name}.",
                nameof(remoteEndPoint));
        }

        if (ip.AddressFamily != AddressFamily && !IsDualModeFor(ip))
        {
            throw new ArgumentException(
                $"The end point is {ip.AddressFamily} but the socket is {AddressFamily}.",
                nameof(remoteEndPoint));
        }

        return IsDualModeFor(ip) ? new IPEndPoint(ip.Address.MapToIPv6(), ip.Port).Serialize() : ip.Serialize();
    }

    private void Validate(OperationKind kind)
    {
        ThrowIfDisposed();
        bool listening = _listening;
        if (kind == OperationKind.Accept)
        {
            if (!listening)
            {
                throw new InvalidOperationException("AcceptAsync needs a listening socket: call Listen first.");
            }
        }
        else if (listening)
        {
            throw new InvalidOperationException(
                $"{kind} is not possible on a listening socket; use AcceptAsync and {kind} on the accepted socket.");
        }
    }

    private void ValidateAwaitable(OperationKind kind)
    {
        Validate(kind);
        if (Engine.Dispatch == CompletionDispatch.Queue)
        {
            throw new InvalidOperationException(
                $"The engine uses CompletionDispatch.Queue: submit the {kind} through engine.Completions and read its completion there.");
        }
    }

    private static void ValidateTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout,
                "The timeout must be positive, or Timeout.InfiniteTimeSpan for none.");
        }
    }

    private static void ValidateArray(byte[] buffer, int offset, int count)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if ((uint)offset > (uint)buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"The offset lies beyond the end of the {buffer.Length}-byte buffer.");
        }

        if ((uint)count > (uint)(buffer.Length - offset))
        {
            throw new ArgumentOutOfRangeException(nameof(count), count,
                $"Offset {offset} plus count {count} exceeds the {buffer.Length}-byte buffer.");
        }
    }

    private void ThrowIfDisposed()
    {
        if (IsDisposed)
        {
            throw new ObjectDisposedException(nameof(ProactorSocket), $"The {nameof(ProactorSocket)} was disposed.");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"ProactorSocket({Engine.Name})";
}
