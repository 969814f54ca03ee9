using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor;

public sealed partial class ProactorSocket
{
    /// <summary>The largest UDP payload over IPv4: 65535 − 20 (IP header) − 8 (UDP header).</summary>
    public const int MaxDatagramSizeIPv4 = 65507;

    /// <summary>The largest UDP payload over IPv6 without jumbograms: 65535 − 8 (UDP header).</summary>
    public const int MaxDatagramSizeIPv6 = 65527;

    private ProactorSocket(ProactorEngine engine, AddressFamily addressFamily, SocketType socketType, ProtocolType protocolType)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ObjectDisposedException.ThrowIf(engine.IsDisposed, engine);
        if (addressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException(
                $"Address family {addressFamily} is not supported; use InterNetwork (IPv4) or InterNetworkV6 (IPv6).",
                nameof(addressFamily));
        }

        _engineSocket = RegisterOrDispose(engine, new Socket(addressFamily, socketType, protocolType));
        engine.OnSocketOpened();
    }

    /// <summary>Creates a UDP socket on <paramref name="engine"/>, not yet bound (the first send
    /// binds it to an ephemeral port, as the OS does).</summary>
    /// <param name="engine">The engine that will run the socket's operations.</param>
    /// <param name="addressFamily"><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>.</param>
    /// <returns>The datagram socket; dispose it when done.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="engine"/> is null.</exception>
    /// <exception cref="ArgumentException">The address family is not IPv4 or IPv6.</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    public static ProactorSocket CreateDatagram(ProactorEngine engine, AddressFamily addressFamily) =>
        new(engine, addressFamily, SocketType.Dgram, ProtocolType.Udp);

    /// <summary>Creates a UDP socket on <paramref name="engine"/> bound to <paramref name="localEndPoint"/>.</summary>
    /// <param name="engine">The engine that will run the socket's operations.</param>
    /// <param name="localEndPoint">The local address and port (port 0 picks a free one).</param>
    /// <returns>The bound datagram socket; dispose it when done.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The address family is not IPv4 or IPv6.</exception>
    /// <exception cref="SocketException">The bind failed (e.g. the address is in use).</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    public static ProactorSocket CreateDatagram(ProactorEngine engine, IPEndPoint localEndPoint)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        ProactorSocket socket = CreateDatagram(engine, localEndPoint.AddressFamily);
        try
        {
            socket.Bind(localEndPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The socket type: <see cref="SocketType.Stream"/> (TCP) or <see cref="SocketType.Dgram"/> (UDP).</summary>
    public SocketType SocketType => _engineSocket.SocketType;

    internal bool IsDatagram => _engineSocket.SocketType == SocketType.Dgram;

    /// <summary>Allows sending to broadcast addresses (SO_BROADCAST). Datagram sockets only.</summary>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public bool EnableBroadcast
    {
        get
        {
            ThrowIfNotDatagram(nameof(EnableBroadcast));
            return OsSocket.EnableBroadcast;
        }

        set
        {
            ThrowIfNotDatagram(nameof(EnableBroadcast));
            OsSocket.EnableBroadcast = value;
        }
    }

    /// <summary>Whether multicast datagrams this socket sends are looped back to local members
    /// (IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP). Datagram sockets only.</summary>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public bool MulticastLoopback
    {
        get
        {
            ThrowIfNotDatagram(nameof(MulticastLoopback));
            return OsSocket.MulticastLoopback;
        }

        set
        {
            ThrowIfNotDatagram(nameof(MulticastLoopback));
            OsSocket.MulticastLoopback = value;
        }
    }

    /// <summary>Joins the multicast group <paramref name="group"/> (IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP).</summary>
    /// <param name="group">A multicast address of the socket's family.</param>
    /// <param name="interfaceIndex">The interface to join on; 0 lets the OS choose.</param>
    /// <exception cref="ArgumentNullException"><paramref name="group"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="group"/> is not a multicast address of the socket's family.</exception>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="SocketException">The OS refused (e.g. no interface can reach the group).</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public void JoinMulticastGroup(IPAddress group, int interfaceIndex = 0) =>
        SetMembership(group, interfaceIndex, join: true);

    /// <summary>Leaves the multicast group <paramref name="group"/> joined by <see cref="JoinMulticastGroup(IPAddress, int)"/>.</summary>
    /// <param name="group">The group's address.</param>
    /// <param name="interfaceIndex">The interface it was joined on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="group"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="group"/> is not a multicast address of the socket's family.</exception>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="SocketException">The OS refused (e.g. the group was not joined).</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public void LeaveMulticastGroup(IPAddress group, int interfaceIndex = 0) =>
        SetMembership(group, interfaceIndex, join: false);

    /// <summary>Joins the IPv4 multicast group <paramref name="group"/> on the interface that has
    /// <paramref name="localAddress"/> (IP_ADD_MEMBERSHIP with the interface named by its address).</summary>
    /// <param name="group">An IPv4 multicast address.</param>
    /// <param name="localAddress">The address of the interface to join on (e.g. <see cref="IPAddress.Loopback"/>).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The socket is not IPv4, or <paramref name="group"/> is not an IPv4 multicast address.</exception>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="SocketException">The OS refused.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public void JoinMulticastGroup(IPAddress group, IPAddress localAddress) =>
        SetMembership(group, localAddress, join: true);

    /// <summary>Leaves the IPv4 multicast group <paramref name="group"/> joined on the interface that has <paramref name="localAddress"/>.</summary>
    /// <param name="group">The group's address.</param>
    /// <param name="localAddress">The address of the interface it was joined on.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The socket is not IPv4, or <paramref name="group"/> is not an IPv4 multicast address.</exception>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="SocketException">The OS refused (e.g. the group was not joined).</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public void LeaveMulticastGroup(IPAddress group, IPAddress localAddress) =>
        SetMembership(group, localAddress, join: false);

    private void SetMembership(IPAddress group, IPAddress localAddress, bool join)
    {
        ThrowIfNotDatagram(join ? nameof(JoinMulticastGroup) : nameof(LeaveMulticastGroup));
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(localAddress);
        ValidateGroup(group);
        if (AddressFamily != AddressFamily.InterNetwork || localAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException(
                "Naming the interface by its address is IPv4's form; an IPv6 socket names it by index (the other overload).", nameof(localAddress));
        }

        OsSocket.SetSocketOption(SocketOptionLevel.IP, join ? SocketOptionName.AddMembership : SocketOptionName.DropMembership,
            new MulticastOption(group, localAddress));
    }

    private void ValidateGroup(IPAddress group)
    {
        bool multicast = group.AddressFamily == AddressFamily.InterNetwork
            ? (group.GetAddressBytes()[0] & 0xF0) == 0xE0
            : group.IsIPv6Multicast;
        if (group.AddressFamily != AddressFamily || !multicast)
        {
            throw new ArgumentException(
                $"{group} is not a {AddressFamily} multicast address (the socket is {AddressFamily}).", nameof(group));
        }
    }

    private void SetMembership(IPAddress group, int interfaceIndex, bool join)
    {
        ThrowIfNotDatagram(join ? nameof(JoinMulticastGroup) : nameof(LeaveMulticastGroup));
        ArgumentNullException.ThrowIfNull(group);
        ArgumentOutOfRangeException.ThrowIfNegative(interfaceIndex);
        ValidateGroup(group);

        if (AddressFamily == AddressFamily.InterNetwork)
        {
            OsSocket.SetSocketOption(SocketOptionLevel.IP, join ? SocketOptionName.AddMembership : SocketOptionName.DropMembership,
                new MulticastOption(group, interfaceIndex));
        }
        else
        {
            OsSocket.SetSocketOption(SocketOptionLevel.IPv6, join ? SocketOptionName.AddMembership : SocketOptionName.DropMembership,
                new IPv6MulticastOption(group, interfaceIndex));
        }
    }

    /// <summary>Sends <paramref name="buffer"/> as one datagram to <paramref name="remoteEndPoint"/>.</summary>
    /// <param name="buffer">The datagram's payload.</param>
    /// <param name="remoteEndPoint">An <see cref="IPEndPoint"/> of the socket's family.</param>
    /// <param name="cancellationToken">Cancels the send while it waits for room.</param>
    /// <returns>The number of bytes sent: the whole buffer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="remoteEndPoint"/> is null.</exception>
    /// <exception cref="ArgumentException">The end point is not of the socket's family, or the buffer is larger than a datagram can be.</exception>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The OS refused the datagram.</exception>
    public ValueTask<int> SendToAsync(ReadOnlyMemory<byte> buffer, EndPoint remoteEndPoint, CancellationToken cancellationToken = default) =>
        SendToAsync(buffer, SocketFlags.None, remoteEndPoint, cancellationToken);

    /// <summary>Sends <paramref name="buffer"/> as one datagram to <paramref name="remoteEndPoint"/>.</summary>
    /// <param name="buffer">The datagram's payload.</param>
    /// <param name="socketFlags"><see cref="SocketFlags.None"/> or <see cref="SocketFlags.DontRoute"/>.</param>
    /// <param name="remoteEndPoint">An <see cref="IPEndPoint"/> of the socket's family.</param>
    /// <param name="cancellationToken">Cancels the send while it waits for room.</param>
    /// <returns>The number of bytes sent: the whole buffer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="remoteEndPoint"/> is null.</exception>
    /// <exception cref="ArgumentException">The end point is not of the socket's family, the flags are not supported, or the buffer is larger than a datagram can be.</exception>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The OS refused the datagram.</exception>
    public ValueTask<int> SendToAsync(ReadOnlyMemory<byte> buffer, SocketFlags socketFlags, EndPoint remoteEndPoint, CancellationToken cancellationToken = default)
    {
        ValidateDatagramCall(nameof(SendToAsync));
        SocketAddress address = SerializeRemote(remoteEndPoint);
        return SendToCore(buffer, socketFlags, address, cancellationToken);
    }

    /// <summary>Sends <paramref name="buffer"/> as one datagram to <paramref name="socketAddress"/>:
    /// the allocation-free form (keep the serialized address and reuse it).</summary>
    /// <param name="buffer">The datagram's payload.</param>
    /// <param name="socketFlags"><see cref="SocketFlags.None"/> or <see cref="SocketFlags.DontRoute"/>.</param>
    /// <param name="socketAddress">The target, e.g. <c>IPEndPoint.Serialize()</c> or the address a receive filled in.</param>
    /// <param name="cancellationToken">Cancels the send while it waits for room.</param>
    /// <returns>The number of bytes sent: the whole buffer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="socketAddress"/> is null.</exception>
    /// <exception cref="ArgumentException">The address is not of the socket's family, the flags are not supported, or the buffer is larger than a datagram can be.</exception>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The OS refused the datagram.</exception>
    public ValueTask<int> SendToAsync(ReadOnlyMemory<byte> buffer, SocketFlags socketFlags, SocketAddress socketAddress, CancellationToken cancellationToken = default)
    {
        ValidateDatagramCall(nameof(SendToAsync));
        ArgumentNullException.ThrowIfNull(socketAddress);
        if (socketAddress.Family != AddressFamily)
        {
            throw new ArgumentException(
                $"The address is {socketAddress.Family} but the socket is {AddressFamily}.", nameof(socketAddress));
        }

        return SendToCore(buffer, socketFlags, socketAddress, cancellationToken);
    }

    private ValueTask<int> SendToCore(ReadOnlyMemory<byte> buffer, SocketFlags socketFlags, SocketAddress address, CancellationToken cancellationToken)
    {
        if ((socketFlags & ~SocketFlags.DontRoute) != 0)
        {
            throw new ArgumentException($"SendToAsync supports SocketFlags.None or DontRoute, not {socketFlags}.", nameof(socketFlags));
        }

        ValidateDatagramLength(buffer.Length, nameof(buffer));
        return StartMessage(OperationKind.Send, MemoryMarshal.AsMemory(buffer), socketFlags, address, cancellationToken);
    }

    /// <summary>Receives one datagram into <paramref name="buffer"/> and reports who sent it.</summary>
    /// <param name="buffer">Room for the datagram; a datagram longer than this fails with <see cref="SocketError.MessageSize"/>.</param>
    /// <param name="remoteEndPoint">An end point of the socket's family (e.g. <c>new IPEndPoint(IPAddress.Any, 0)</c>): the shape of the reported sender.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The byte count and the sender's end point.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="remoteEndPoint"/> is null.</exception>
    /// <exception cref="ArgumentException">The end point is not of the socket's family.</exception>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The receive failed (<see cref="SocketError.MessageSize"/>: truncated;
    /// <see cref="SocketError.OperationAborted"/>: the socket was closed).</exception>
    public ValueTask<SocketReceiveFromResult> ReceiveFromAsync(Memory<byte> buffer, EndPoint remoteEndPoint, CancellationToken cancellationToken = default) =>
        ReceiveFromAsync(buffer, SocketFlags.None, remoteEndPoint, cancellationToken);

    /// <summary>Receives one datagram into <paramref name="buffer"/> and reports who sent it.</summary>
    /// <param name="buffer">Room for the datagram; a datagram longer than this fails with <see cref="SocketError.MessageSize"/>.</param>
    /// <param name="socketFlags"><see cref="SocketFlags.None"/> or <see cref="SocketFlags.Peek"/>.</param>
    /// <param name="remoteEndPoint">An end point of the socket's family: the shape of the reported sender.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The byte count and the sender's end point.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="remoteEndPoint"/> is null.</exception>
    /// <exception cref="ArgumentException">The end point is not of the socket's family, or the flags are not supported.</exception>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The receive failed (<see cref="SocketError.MessageSize"/>: truncated).</exception>
    public ValueTask<SocketReceiveFromResult> ReceiveFromAsync(Memory<byte> buffer, SocketFlags socketFlags, EndPoint remoteEndPoint, CancellationToken cancellationToken = default)
    {
        ValidateReceiveFrom(nameof(ReceiveFromAsync), socketFlags, remoteEndPoint);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<SocketReceiveFromResult>(cancellationToken);
        }

        Operation op = Rent(OperationKind.Receive);
        op.Prepare(OperationKind.Receive, this, buffer, null, null, null);
        op.SetMessage(socketFlags, null);
        op.UseOwnAddress(remoteEndPoint, AddressFamily);
        if (!_engineSocket.Start(op))
        {
            Exception? exception = op.Error == SocketError.Success ? null : op.CreateException();
            SocketReceiveFromResult result = exception is null ? op.TakeReceiveFromResult() : default;
            op.Release();
            return exception is null ? new ValueTask<SocketReceiveFromResult>(result) : ValueTask.FromException<SocketReceiveFromResult>(exception);
        }

        op.RegisterCancellation(cancellationToken);
        return new ValueTask<SocketReceiveFromResult>(op, op.Version);
    }

    /// <summary>Receives one datagram into <paramref name="buffer"/> and writes its sender into
    /// <paramref name="receivedAddress"/>: the allocation-free form (reuse the address; turn it into
    /// an end point only when needed, or send the reply to it directly).</summary>
    /// <param name="buffer">Room for the datagram; a datagram longer than this fails with <see cref="SocketError.MessageSize"/>.</param>
    /// <param name="socketFlags"><see cref="SocketFlags.None"/> or <see cref="SocketFlags.Peek"/>.</param>
    /// <param name="receivedAddress">A <c>new SocketAddress(socket.AddressFamily)</c>; its buffer and
    /// <see cref="SocketAddress.Size"/> are overwritten when the operation completes.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The byte count.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="receivedAddress"/> is null.</exception>
    /// <exception cref="ArgumentException">The address is not of the socket's family or too small for it, or the flags are not supported.</exception>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The receive failed (<see cref="SocketError.MessageSize"/>: truncated).</exception>
    public ValueTask<int> ReceiveFromAsync(Memory<byte> buffer, SocketFlags socketFlags, SocketAddress receivedAddress, CancellationToken cancellationToken = default)
    {
        ValidateDatagramCall(nameof(ReceiveFromAsync));
        ValidateReceiveFlags(socketFlags, SocketFlags.Peek, nameof(ReceiveFromAsync));
        ArgumentNullException.ThrowIfNull(receivedAddress);
        if (receivedAddress.Family != AddressFamily || receivedAddress.Buffer.Length < SocketAddress.GetMaximumAddressSize(AddressFamily))
        {
            throw new ArgumentException(
                $"The address must be a new SocketAddress({AddressFamily}) (it is {receivedAddress.Family}, {receivedAddress.Buffer.Length} bytes).",
                nameof(receivedAddress));
        }

        return StartMessage(OperationKind.Receive, buffer, socketFlags, receivedAddress, cancellationToken);
    }

    /// <summary>Receives one datagram with its packet information: the local address it was sent
    /// to and the interface it arrived on (IP_PKTINFO / IPV6_RECVPKTINFO, enabled on first use).</summary>
    /// <param name="buffer">Room for the datagram; a datagram longer than this fails with <see cref="SocketError.MessageSize"/>.</param>
    /// <param name="socketFlags"><see cref="SocketFlags.None"/> or <see cref="SocketFlags.Peek"/>.</param>
    /// <param name="remoteEndPoint">An end point of the socket's family: the shape of the reported sender.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The byte count, the flags the OS reported, the sender and the packet information.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="remoteEndPoint"/> is null.</exception>
    /// <exception cref="ArgumentException">The end point is not of the socket's family, or the flags are not supported.</exception>
    /// <exception cref="InvalidOperationException">The socket is not a datagram socket.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The receive failed (<see cref="SocketError.MessageSize"/>: truncated).</exception>
    public ValueTask<SocketReceiveMessageFromResult> ReceiveMessageFromAsync(Memory<byte> buffer, SocketFlags socketFlags, EndPoint remoteEndPoint, CancellationToken cancellationToken = default)
    {
        ValidateReceiveFrom(nameof(ReceiveMessageFromAsync), socketFlags, remoteEndPoint);
        EnablePacketInformation();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<SocketReceiveMessageFromResult>(cancellationToken);
        }

        Operation op = Rent(OperationKind.Receive);
        op.Prepare(OperationKind.Receive, this, buffer, null, null, null);
        op.SetMessage(socketFlags, null, wantsPacketInformation: true);
        op.UseOwnAddress(remoteEndPoint, AddressFamily);
        if (!_engineSocket.Start(op))
        {
            Exception? exception = op.Error == SocketError.Success ? null : op.CreateException();
            SocketReceiveMessageFromResult result = exception is null ? op.TakeReceiveMessageFromResult() : default;
            op.Release();
            return exception is null ? new ValueTask<SocketReceiveMessageFromResult>(result) : ValueTask.FromException<SocketReceiveMessageFromResult>(exception);
        }

        op.RegisterCancellation(cancellationToken);
        return new ValueTask<SocketReceiveMessageFromResult>(op, op.Version);
    }

    private void EnablePacketInformation()
    {
        if (Volatile.Read(ref Rare.PacketInformationEnabled) != 0)
        {
            return;
        }

        // As Socket.ReceiveMessageFrom does: ask the OS for the control data once, on first use.
        if (AddressFamily == AddressFamily.InterNetwork)
        {
            OsSocket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
        }
        else
        {
            OsSocket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.PacketInformation, true);
        }

        Volatile.Write(ref Rare.PacketInformationEnabled, 1);
    }

    /// <summary>Connects a datagram socket: no handshake, the OS only records the default peer
    /// (and filters what is received to it), so it completes at once.</summary>
    private ValueTask ConnectDatagram(EndPoint remoteEndPoint, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            OsSocket.Connect(remoteEndPoint);
        }
        catch (SocketException e)
        {
            return ValueTask.FromException(e);
        }

        OnConnected();
        return ValueTask.CompletedTask;
    }

    private ValueTask<int> StartMessage(OperationKind kind, Memory<byte> buffer, SocketFlags socketFlags, SocketAddress? address, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        Operation op = Rent(kind);
        op.Prepare(kind, this, buffer, null, null, null);
        op.SetMessage(socketFlags, address);
        return StartPrepared(op, cancellationToken);
    }

    private ValueTask<int> StartPrepared(Operation op, CancellationToken cancellationToken)
    {
        if (!_engineSocket.Start(op))
        {
            int bytes = op.BytesTransferred;
            Exception? exception = op.Error == SocketError.Success ? null : op.CreateException();
            op.Release();
            return exception is null ? new ValueTask<int>(bytes) : ValueTask.FromException<int>(exception);
        }

        op.RegisterCancellation(cancellationToken);
        return new ValueTask<int>(op, op.Version);
    }

    private void ValidateReceiveFrom(string call, SocketFlags socketFlags, EndPoint remoteEndPoint)
    {
        ValidateDatagramCall(call);
        ValidateReceiveFlags(socketFlags, SocketFlags.Peek, call);
        ArgumentNullException.ThrowIfNull(remoteEndPoint);
        if (remoteEndPoint.AddressFamily != AddressFamily)
        {
            throw new ArgumentException(
                $"The end point is {remoteEndPoint.AddressFamily} but the socket is {AddressFamily}.", nameof(remoteEndPoint));
        }
    }

    private static void ValidateReceiveFlags(SocketFlags socketFlags, SocketFlags allowed, string call)
    {
        if ((socketFlags & ~allowed) != 0)
        {
            throw new ArgumentException($"{call} supports SocketFlags {allowed} (or None), not {socketFlags}.", nameof(socketFlags));
        }
    }

    private void ValidateDatagramLength(int length, string parameterName)
    {
        int max = AddressFamily == AddressFamily.InterNetworkV6 ? MaxDatagramSizeIPv6 : MaxDatagramSizeIPv4;
        if (length > max)
        {
            throw new ArgumentException(
                $"The datagram is {length} bytes; a UDP datagram over {AddressFamily} carries at most {max}.", parameterName);
        }
    }

    private void ValidateDatagramCall(string call)
    {
        ValidateAwaitable(OperationKind.Receive);
        ThrowIfNotDatagram(call);
    }

    private void ThrowIfNotDatagram(string call)
    {
        ThrowIfDisposed();
        if (!IsDatagram)
        {
            throw new InvalidOperationException(
                $"{call} needs a datagram (UDP) socket: create one with ProactorSocket.CreateDatagram. This socket is {SocketType}.");
        }
    }

    private void ThrowIfDatagram(string call)
    {
        if (IsDatagram)
        {
            throw new InvalidOperationException(
                $"{call} needs a stream (TCP) socket; a datagram socket uses SendToAsync/ReceiveFromAsync (or ConnectAsync, then SendAsync/ReceiveAsync).");
        }
    }
}
