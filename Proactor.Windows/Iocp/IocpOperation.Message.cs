using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Proactor.Windows;

/// <summary>
/// Message operations on IOCP: WSASendTo / WSARecvFrom for datagrams with a name, WSARecvMsg for
/// packet information, WSASend / WSARecv with several WSABUFs for scatter/gather, and the caller's
/// flags (peek, out of band). Everything the OS reads or writes while the call is pending lives in
/// one native block per pooled operation (reused, grown only when a use needs more WSABUFs).
/// </summary>
internal sealed unsafe partial class IocpOperation
{
    private const int MessageHeaderOffset = 0;                    // WSAMSG (56 bytes)
    private const int MessageNameOffset = 64;                     // SOCKADDR_STORAGE
    private const int MessageNameLengthOffset = MessageNameOffset + MaxAddressLength;
    private const int MessageFlagsOffset = MessageNameLengthOffset + 4;
    private const int MessageControlOffset = MessageFlagsOffset + 4;
    private const int MessageControlCapacity = 64;
    private const int MessageBuffersOffset = MessageControlOffset + MessageControlCapacity;

    private const int WsaMessageSize = 10040; // WSAEMSGSIZE

    /// <summary>The NTSTATUS of a datagram cut to fit the buffer (a warning, not an error).</summary>
    private const uint StatusBufferOverflow = 0x80000005;

    private MessageBlock? _message;
    private bool _segmentsPinned;

    /// <summary>The native block. Freed by its finalizer: while the OS may use it, the operation
    /// (rooted by its GCHandle, or abandoned and rooted for good) keeps it reachable.</summary>
    private sealed class MessageBlock
    {
        public MessageBlock(int buffers)
        {
            Capacity = buffers;
            Memory = (byte*)NativeMemory.AllocZeroed((nuint)(MessageBuffersOffset + (buffers * sizeof(Interop.Winsock.WSABUF))));
        }

        ~MessageBlock() => NativeMemory.Free(Memory);

        public byte* Memory { get; }

        public int Capacity { get; }
    }

    private byte* PrepareMessage()
    {
        int buffers = Math.Min(MessageBufferCount, MaxSegmentsPerCall);
        if (_message is null || _message.Capacity < buffers)
        {
            _message = new MessageBlock(Math.Max(buffers, Math.Max(4, (_message?.Capacity ?? 0) * 2)));
        }

        if (!_segmentsPinned)
        {
            PinSegments();
            _segmentsPinned = true;
        }

        return _message.Memory;
    }

    private void UnpinMessage()
    {
        if (_segmentsPinned)
        {
            UnpinSegments();
            _segmentsPinned = false;
        }
    }

    /// <summary>Fills the WSABUFs for the pinned buffers past the first <paramref name="skip"/> bytes.</summary>
    private uint FillBuffers(byte* block, int skip)
    {
        var buffers = (Interop.Winsock.WSABUF*)(block + MessageBuffersOffset);
        uint used = 0;
        int count = MessageBufferCount;
        for (int i = 0; i < count && used < MaxSegmentsPerCall; i++)
        {
            int length = MessageBuffer(i).Length;
            if (skip > 0 && skip >= length)
            {
                skip -= length;
                continue;
            }

            buffers[used].buf = (byte*)SegmentPins![i].Pointer + skip;
            buffers[used].len = (uint)(length - skip);
            skip = 0;
            used++;
        }

        return used;
    }

    private bool StartMessageReceive(nint handle, bool skipsPortOnSuccess)
    {
        byte* block = PrepareMessage();
        uint count = FillBuffers(block, 0);
        var buffers = (Interop.Winsock.WSABUF*)(block + MessageBuffersOffset);
        byte* name = block + MessageNameOffset;
        int* nameLength = (int*)(block + MessageNameLengthOffset);
        uint* flags = (uint*)(block + MessageFlagsOffset);
        *nameLength = MaxAddressLength;
        *flags = (uint)Flags;
        ClearOverlapped();
        uint bytes = 0;
        int rc;
        int error;
        if (WantsPacketInformation)
        {
            nint recvMsg = Interop.Winsock.GetWSARecvMsg(handle, out error);
            if (recvMsg == 0)
            {
                Error = Interop.Errors.ToSocketError(error);
                return false;
            }

            var header = (Interop.Winsock.WSAMSG*)(block + MessageHeaderOffset);
            new Span<byte>(block + MessageControlOffset, MessageControlCapacity).Clear();
            header->name = name;
            header->namelen = MaxAddressLength;
            header->lpBuffers = buffers;
            header->dwBufferCount = count;
            header->Control.buf = block + MessageControlOffset;
            header->Control.len = MessageControlCapacity;
            header->dwFlags = (uint)Flags;
            rc = Interop.Winsock.WSARecvMsg(recvMsg, handle, header, &bytes, Overlapped, out error);
        }
        else if (PeerAddress is not null)
        {
            rc = Interop.Winsock.WSARecvFrom(handle, buffers, count, &bytes, flags, name, nameLength, Overlapped, 0);
            error = rc == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        else
        {
            rc = Interop.Winsock.WSARecv(handle, buffers, count, &bytes, flags, Overlapped, 0);
            error = rc == 0 ? 0 : Marshal.GetLastPInvokeError();
        }

        if (rc == 0)
        {
            if (!skipsPortOnSuccess)
            {
                return true;
            }

            BytesTransferred = (int)bytes;
            CompleteMessageReceive(bytes);
            return false;
        }

        if (error == WsaMessageSize && !skipsPortOnSuccess)
        {
            // A truncated datagram ends with a warning status (STATUS_BUFFER_OVERFLOW), which the
            // port treats as a success: the call says WSAEMSGSIZE, yet a packet is queued unless
            // the socket skips the port on success (seen under Wine both ways). The packet then
            // reports it; finishing here would let it arrive for an operation no longer the OS's.
            return true;
        }

        return PendingOrFailed(error);
    }

    private bool StartMessageSend(nint handle, bool skipsPortOnSuccess)
    {
        byte* block = PrepareMessage();
        var buffers = (Interop.Winsock.WSABUF*)(block + MessageBuffersOffset);
        byte* name = block + MessageNameOffset;
        int nameLength = 0;
        if (PeerAddress is { } address)
        {
            if (address.Size > MaxAddressLength)
            {
                Error = SocketError.AddressFamilyNotSupported;
                return false;
            }

            address.Buffer.Span[..address.Size].CopyTo(new Span<byte>(name, MaxAddressLength));
            nameLength = address.Size;
        }

        // At least one call, also for an empty datagram.
        do
        {
            uint count = FillBuffers(block, BytesTransferred);
            ClearOverlapped();
            uint bytes = 0;
            int rc = nameLength != 0
                ? Interop.Winsock.WSASendTo(handle, buffers, count, &bytes, (uint)Flags, name, nameLength, Overlapped, 0)
                : Interop.Winsock.WSASend(handle, buffers, count, &bytes, (uint)Flags, Overlapped, 0);
            if (rc != 0)
            {
                return PendingOrFailed(Marshal.GetLastPInvokeError());
            }

            if (!skipsPortOnSuccess)
            {
                return true; // the packet reports the bytes
            }

            BytesTransferred += (int)bytes;
            if (bytes == 0 && BytesTransferred < TransferLength)
            {
                Error = NoProgressError;
                return false;
            }
        }
        while (BytesTransferred < TransferLength);

        return false;
    }

    /// <summary>A message receive finished with data: its sender, flags and packet information.</summary>
    private void CompleteMessageReceive(uint bytes)
    {
        byte* block = _message!.Memory;
        if (PeerAddress is not null)
        {
            // The name's length is the family's sockaddr size; Winsock's out-length of an
            // overlapped call is not reliably written back, the address itself is.
            int length = Owner.AddressFamily == AddressFamily.InterNetwork ? 16 : 28; // sockaddr_in, sockaddr_in6
            SetReceivedAddress(new ReadOnlySpan<byte>(block + MessageNameOffset, length));
        }

        uint flags = WantsPacketInformation
            ? ((Interop.Winsock.WSAMSG*)(block + MessageHeaderOffset))->dwFlags
            : *(uint*)(block + MessageFlagsOffset);
        // The in/out flags start as the caller's (peek, out of band): only what the OS adds is news.
        SocketFlags received = (SocketFlags)(flags & (uint)(SocketFlags.Truncated | SocketFlags.ControlDataTruncated));
        if ((uint)_block->Overlapped.InternalLow == StatusBufferOverflow)
        {
            received |= SocketFlags.Truncated;
        }
        else if (bytes < (uint)TransferLength)
        {
            received &= ~SocketFlags.Truncated; // a stale in/out value, not the OS's word: nothing was cut
        }

        if (WantsPacketInformation)
        {
            ParsePacketInformation(block + MessageControlOffset);
        }

        SetReceivedFlags(received);
    }

    private void ParsePacketInformation(byte* control)
    {
        // WSACMSGHDR { SIZE_T cmsg_len; INT cmsg_level; INT cmsg_type; } then the data, 8-aligned.
        const int HeaderSize = 16;
        int offset = 0;
        while (offset + HeaderSize <= MessageControlCapacity)
        {
            byte* message = control + offset;
            int length = (int)*(nuint*)message;
            if (length < HeaderSize || offset + length > MessageControlCapacity)
            {
                return;
            }

            int level = *(int*)(message + 8);
            int type = *(int*)(message + 12);
            var data = new ReadOnlySpan<byte>(message + HeaderSize, length - HeaderSize);
            if (level == Interop.Winsock.IPPROTO_IP && type == Interop.Winsock.IP_PKTINFO && data.Length >= 8)
            {
                // IN_PKTINFO { IN_ADDR ipi_addr; ULONG ipi_ifindex; }
                SetPacketInformation(new IPAddress(data[..4]), MemoryMarshal.Read<int>(data[4..]));
                return;
            }

            if (level == Interop.Winsock.IPPROTO_IPV6 && type == Interop.Winsock.IPV6_PKTINFO && data.Length >= 20)
            {
                // IN6_PKTINFO { IN6_ADDR ipi6_addr; ULONG ipi6_ifindex; }
                SetPacketInformation(new IPAddress(data[..16]), MemoryMarshal.Read<int>(data[16..]));
                return;
            }

            offset += (length + 7) & ~7;
        }
    }
}
