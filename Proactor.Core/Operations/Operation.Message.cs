using System;
using System.Buffers;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Proactor;

/// <summary>
/// The message-style part of an operation: what goes through sendmsg/recvmsg (WSASendTo,
/// WSARecvFrom, WSARecvMsg, a WSASend of several WSABUFs) rather than a plain send/recv. A message
/// operation keeps its kind (<see cref="OperationKind.Receive"/> or <see cref="OperationKind.Send"/>),
/// so it shares its direction's FIFO, gate and ordering with plain receives and sends; only the
/// syscall differs. Everything here is per pooled object and reused, so steady state allocates nothing.
/// </summary>
internal abstract partial class Operation : IValueTaskSource<SocketReceiveFromResult>, IValueTaskSource<SocketReceiveMessageFromResult>
{
    /// <summary>sizeof(struct sockaddr_storage) / SOCKADDR_STORAGE: room for any received name.</summary>
    public const int MaxAddressLength = 128;

    /// <summary>The most buffers one sendmsg/recvmsg takes (Linux IOV_MAX): a longer gather send goes
    /// out in several calls; a scatter receive or a datagram is refused beyond it.</summary>
    public const int MaxSegmentsPerCall = 1024;

    /// <summary>True when the operation goes through the message-style call (names, several buffers, flags).</summary>
    public bool IsMessage;

    /// <summary>The socket is a datagram socket: a truncated receive is <see cref="SocketError.MessageSize"/>.</summary>
    public bool IsDatagram => Owner.IsDatagram;

    /// <summary>The flags handed to the OS call (<see cref="SocketFlags.Peek"/>, <see cref="SocketFlags.OutOfBand"/>).</summary>
    public SocketFlags Flags
    {
        get => _rare?.Flags ?? SocketFlags.None;
        set
        {
            if (value != SocketFlags.None || _rare is not null)
            {
                Rare.Flags = value;
            }
        }
    }

    /// <summary>What the OS said of a received message (truncated, control data truncated, out of band).</summary>
    public SocketFlags ReceivedFlags
    {
        get => _rare?.ReceivedFlags ?? SocketFlags.None;
        set
        {
            if (value != SocketFlags.None || _rare is not null)
            {
                Rare.ReceivedFlags = value;
            }
        }
    }

    /// <summary>A send-to's target; a receive-from's source is written here (buffer and <see cref="SocketAddress.Size"/>).</summary>
    public SocketAddress? PeerAddress => _rare?.PeerAddress;

    /// <summary>The receive asks for IP_PKTINFO / IPV6_PKTINFO control data.</summary>
    public bool WantsPacketInformation => _rare?.WantsPacketInformation ?? false;

    /// <summary>Buffers of a scatter/gather operation; 0 means the single <see cref="Buffer"/>.</summary>
    public int SegmentCount => _rare?.SegmentCount ?? 0;

    /// <summary>Bytes the operation is to move in all (a send completes only when all of them went).</summary>
    public int TransferLength;

    /// <summary>Pins of the buffers while the OS holds them (native backends), reused across uses.</summary>
    public MemoryHandle[]? SegmentPins => _rare?.SegmentPins;

    /// <summary>How many buffers the message call names.</summary>
    public int MessageBufferCount => SegmentCount == 0 ? 1 : SegmentCount;

    /// <summary>The <paramref name="index"/>th buffer of the message call.</summary>
    public Memory<byte> MessageBuffer(int index) => SegmentCount == 0 ? Buffer : _rare!.Segments![index];

    private void ResetMessage()
    {
        // Every receive of a datagram socket goes through recvmsg: only it reports truncation.
        IsMessage = IsDatagram && Kind == OperationKind.Receive;
        TransferLength = Buffer.Length; // the rest of the message state was reset with the rare state
    }

    private void ClearMessage()
    {
        if (_rare is { SegmentCount: not 0 } rare)
        {
            // Drop the caller's buffers, so a pooled object does not keep them alive.
            Array.Clear(rare.Segments!, 0, rare.SegmentCount);
            rare.SegmentCount = 0;
        }
    }

    /// <summary>Turns this prepared operation into a message operation.</summary>
    internal void SetMessage(SocketFlags flags, SocketAddress? peerAddress, bool wantsPacketInformation = false)
    {
        IsMessage = true;
        RareState rare = Rare;
        rare.Flags = flags;
        rare.PeerAddress = peerAddress;
        rare.WantsPacketInformation = wantsPacketInformation;
    }

    /// <summary>For the EndPoint-returning receives: the source is written into an address this object
    /// owns (one per object, reused), and turned into an end point shaped like <paramref name="template"/>.</summary>
    internal void UseOwnAddress(EndPoint template, AddressFamily family)
    {
        RareState rare = Rare;
        if (rare.OwnAddress is null || rare.OwnAddress.Family != family)
        {
            rare.OwnAddress = new SocketAddress(family);
        }

        rare.PeerAddress = rare.OwnAddress;
        rare.EndPointTemplate = template;
    }

    internal void SetSegments(IList<ArraySegment<byte>> segments)
    {
        int count = segments.Count;
        Memory<byte>[] array = EnsureSegments(count);
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            ArraySegment<byte> segment = segments[i];
            array[i] = segment;
            total += segment.Count;
        }

        SetSegmentTotals(count, total);
    }

    internal void SetSegments(in ReadOnlySequence<byte> sequence)
    {
        int count = 0;
        foreach (ReadOnlyMemory<byte> _ in sequence)
        {
            count++;
        }

        Memory<byte>[] array = EnsureSegments(count);
        int i = 0;
        foreach (ReadOnlyMemory<byte> memory in sequence)
        {
            array[i++] = System.Runtime.InteropServices.MemoryMarshal.AsMemory(memory);
        }

        SetSegmentTotals(count, sequence.Length);
    }

    private Memory<byte>[] EnsureSegments(int count)
    {
        RareState rare = Rare;
        if (rare.Segments is null || rare.Segments.Length < count)
        {
            rare.Segments = new Memory<byte>[Math.Max(count, Math.Max(4, (rare.Segments?.Length ?? 0) * 2))];
        }

        return rare.Segments;
    }

    private void SetSegmentTotals(int count, long total)
    {
        if (total > int.MaxValue)
        {
            Array.Clear(_rare!.Segments!, 0, count);
            throw new ArgumentException($"The buffers hold {total} bytes in all; one operation moves at most {int.MaxValue}.", "buffers");
        }

        IsMessage = true;
        Rare.SegmentCount = count;
        TransferLength = (int)total;
    }

    /// <summary>Pins every buffer of the message (native backends, before the OS takes them).</summary>
    internal void PinSegments()
    {
        int count = MessageBufferCount;
        RareState rare = Rare;
        if (rare.SegmentPins is null || rare.SegmentPins.Length < count)
        {
            rare.SegmentPins = new MemoryHandle[Math.Max(count, 4)];
        }

        MemoryHandle[] pins = rare.SegmentPins;
        for (int i = 0; i < count; i++)
        {
            pins[i] = MessageBuffer(i).Pin();
        }
    }

    /// <summary>Releases the pins of <see cref="PinSegments"/>.</summary>
    internal void UnpinSegments()
    {
        if (SegmentPins is not { } pins)
        {
            return;
        }

        int count = Math.Min(MessageBufferCount, pins.Length);
        for (int i = 0; i < count; i++)
        {
            pins[i].Dispose();
            pins[i] = default;
        }
    }

    /// <summary>Forgets the pins without releasing them: the OS may still write the buffers.</summary>
    internal void AbandonSegmentPins()
    {
        if (_rare is { } rare)
        {
            rare.SegmentPins = null;
        }
    }

    /// <summary>Backend: the source address of a received message, in the OS's sockaddr form.</summary>
    internal void SetReceivedAddress(ReadOnlySpan<byte> name)
    {
        if (PeerAddress is not { } address || name.Length == 0)
        {
            return;
        }

        int length = Math.Min(name.Length, address.Buffer.Length);
        name[..length].CopyTo(address.Buffer.Span);
        address.Size = length;
    }

    /// <summary>Backend: the OS's flags of a received message. A truncated datagram fails with
    /// <see cref="SocketError.MessageSize"/>, as System.Net.Sockets reports it.</summary>
    internal void SetReceivedFlags(SocketFlags flags)
    {
        ReceivedFlags = flags;
        if (IsDatagram && (flags & SocketFlags.Truncated) != 0 && Error == SocketError.Success)
        {
            Error = SocketError.MessageSize;
        }
    }

    /// <summary>Backend: the packet information (destination address, interface) of a received datagram.</summary>
    internal void SetPacketInformation(IPAddress address, int interfaceIndex)
    {
        RareState rare = Rare;
        rare.PacketAddress = address;
        rare.PacketInterface = interfaceIndex;
    }

    private SocketReceiveFromResult ToReceiveFromResult(int bytes) => new()
    {
        ReceivedBytes = bytes,
        RemoteEndPoint = CreateRemoteEndPoint(),
    };

    private SocketReceiveMessageFromResult ToReceiveMessageFromResult(int bytes) => new()
    {
        ReceivedBytes = bytes,
        RemoteEndPoint = CreateRemoteEndPoint(),
        SocketFlags = ReceivedFlags,
        PacketInformation = CreatePacketInformation(_rare?.PacketAddress, _rare?.PacketInterface ?? 0),
    };

    private EndPoint CreateRemoteEndPoint()
    {
        EndPoint template = _rare!.EndPointTemplate!;
        SocketAddress address = PeerAddress!;
        return address.Size == 0 ? template : template.Create(address);
    }

    /// <summary>The synchronous result of a receive-from (the operation is not pending).</summary>
    internal SocketReceiveFromResult TakeReceiveFromResult() => ToReceiveFromResult(BytesTransferred);

    /// <summary>The synchronous result of a receive-message-from (the operation is not pending).</summary>
    internal SocketReceiveMessageFromResult TakeReceiveMessageFromResult() => ToReceiveMessageFromResult(BytesTransferred);

    SocketReceiveFromResult IValueTaskSource<SocketReceiveFromResult>.GetResult(short token) =>
        GetResultAndRelease(token, static (op, bytes) => op.ToReceiveFromResult(bytes));

    SocketReceiveMessageFromResult IValueTaskSource<SocketReceiveMessageFromResult>.GetResult(short token) =>
        GetResultAndRelease(token, static (op, bytes) => op.ToReceiveMessageFromResult(bytes));

    // IPPacketInformation has no public constructor; this mirror has its exact fields (an address,
    // then the interface index), so a reinterpretation builds one without reflection (AOT-safe).
    // A conformance test compares the result with what the OS reported, so a runtime that changed
    // the layout fails there, not silently.
    private struct PacketInformationLayout
    {
        public IPAddress? Address;
        public int NetworkInterface;
    }

    private static IPPacketInformation CreatePacketInformation(IPAddress? address, int networkInterface)
    {
        if (Unsafe.SizeOf<PacketInformationLayout>() != Unsafe.SizeOf<IPPacketInformation>())
        {
            return default;
        }

        var layout = new PacketInformationLayout { Address = address, NetworkInterface = networkInterface };
        return Unsafe.As<PacketInformationLayout, IPPacketInformation>(ref layout);
    }
}
