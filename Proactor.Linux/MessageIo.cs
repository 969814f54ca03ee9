using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// sendmsg/recvmsg for message operations (<see cref="Operation.IsMessage"/>: a name, several
/// buffers, flags, packet information), for every Linux engine: the emulated proactor calls them
/// non-blocking, io_uring fills the same <c>msghdr</c> for IORING_OP_SENDMSG/RECVMSG.
/// </summary>
[SupportedOSPlatform("linux")]
internal static unsafe class MessageIo
{
    /// <summary>Room for one IP_PKTINFO or IPV6_PKTINFO control message (cmsghdr 16 + 20, aligned), with slack.</summary>
    public const int ControlCapacity = 64;

    /// <summary>The native scratch a message call needs besides its iovecs: msghdr, name, control.</summary>
    public const int ScratchSize = 64 + Operation.MaxAddressLength + ControlCapacity;

    public static bool TryReceive(Operation op, int fd)
    {
        op.PinSegments();
        try
        {
            int count = Math.Min(op.MessageBufferCount, Operation.MaxSegmentsPerCall);
            Interop.Sys.IoVec* iov = stackalloc Interop.Sys.IoVec[count];
            byte* scratch = stackalloc byte[ScratchSize];
            Interop.Sys.MsgHdr* header = Fill(op, scratch, iov, 0);
            nint n;
            do
            {
                n = Interop.Sys.RecvMsg(fd, header, (int)op.Flags | Interop.Sys.MSG_DONTWAIT);
            }
            while (n < 0 && Interop.Errno.Last == Interop.Errno.EINTR);

            if (n >= 0)
            {
                OnReceived(op, header, (int)n);
                return true;
            }

            int errno = Interop.Errno.Last;
            if (errno == Interop.Errno.EAGAIN)
            {
                return false;
            }

            op.Error = Interop.Errno.ToSocketError(errno);
            return true;
        }
        finally
        {
            op.UnpinSegments();
        }
    }

    public static bool TrySend(Operation op, int fd)
    {
        op.PinSegments();
        try
        {
            int total = op.TransferLength;
            Interop.Sys.IoVec* iov = stackalloc Interop.Sys.IoVec[Math.Min(op.MessageBufferCount, Operation.MaxSegmentsPerCall)];
            byte* scratch = stackalloc byte[ScratchSize];

            // At least one sendmsg, also for nothing to send (an empty datagram is a datagram).
            while (true)
            {
                Interop.Sys.MsgHdr* header = Fill(op, scratch, iov, op.BytesTransferred);
                nint n = Interop.Sys.SendMsg(fd, header, (int)op.Flags | Interop.Sys.MSG_NOSIGNAL | Interop.Sys.MSG_DONTWAIT);
                if (n >= 0)
                {
                    op.BytesTransferred += (int)n;
                    if (op.BytesTransferred >= total)
                    {
                        return true;
                    }

                    continue;
                }

                int errno = Interop.Errno.Last;
                if (errno == Interop.Errno.EINTR)
                {
                    continue;
                }

                if (errno == Interop.Errno.EAGAIN)
                {
                    return false;
                }

                op.Error = Interop.Errno.ToSocketError(errno);
                return true;
            }
        }
        finally
        {
            op.UnpinSegments();
        }
    }

    /// <summary>
    /// Lays out a msghdr in <paramref name="scratch"/> (<see cref="ScratchSize"/> bytes) for the
    /// operation's pinned buffers (<see cref="Operation.SegmentPins"/>), leaving out the first
    /// <paramref name="skip"/> bytes (what a short send already sent), at most
    /// <see cref="Operation.MaxSegmentsPerCall"/> iovecs into <paramref name="iov"/>.
    /// </summary>
    public static Interop.Sys.MsgHdr* Fill(Operation op, byte* scratch, Interop.Sys.IoVec* iov, int skip)
    {
        var header = (Interop.Sys.MsgHdr*)scratch;
        byte* name = scratch + 64;
        byte* control = name + Operation.MaxAddressLength;
        *header = default;

        int used = 0;
        int count = op.MessageBufferCount;
        for (int i = 0; i < count && used < Operation.MaxSegmentsPerCall; i++)
        {
            int length = op.MessageBuffer(i).Length;
            if (skip > 0 && skip >= length)
            {
                skip -= length;
                continue;
            }

            iov[used].Base = (byte*)op.SegmentPins![i].Pointer + skip;
            iov[used].Length = (nuint)(length - skip);
            skip = 0;
            used++;
        }

        header->Iov = iov;
        header->IovLength = (nuint)used;
        if (op.PeerAddress is { } address)
        {
            header->Name = name;
            if (op.Kind == OperationKind.Send)
            {
                address.Buffer.Span[..address.Size].CopyTo(new Span<byte>(name, Operation.MaxAddressLength));
                header->NameLength = (uint)address.Size;
            }
            else
            {
                header->NameLength = Operation.MaxAddressLength;
            }
        }

        if (op.WantsPacketInformation)
        {
            header->Control = control;
            header->ControlLength = ControlCapacity;
        }

        return header;
    }

    /// <summary>A receive returned <paramref name="bytes"/>: its name, flags and control data into the operation.</summary>
    public static void OnReceived(Operation op, Interop.Sys.MsgHdr* header, int bytes)
    {
        op.BytesTransferred = bytes;
        if (op.PeerAddress is not null && header->Name is not null)
        {
            op.SetReceivedAddress(new ReadOnlySpan<byte>(header->Name, (int)Math.Min(header->NameLength, (uint)Operation.MaxAddressLength)));
        }

        if (op.WantsPacketInformation && header->Control is not null)
        {
            ParsePacketInformation(op, header->Control, (int)Math.Min(header->ControlLength, (nuint)ControlCapacity));
        }

        int flags = header->Flags;
        SocketFlags received = SocketFlags.None;
        if ((flags & Interop.Sys.MSG_TRUNC) != 0)
        {
            received |= SocketFlags.Truncated;
        }

        if ((flags & Interop.Sys.MSG_CTRUNC) != 0)
        {
            received |= SocketFlags.ControlDataTruncated;
        }

        if ((flags & Interop.Sys.MSG_OOB) != 0)
        {
            received |= SocketFlags.OutOfBand;
        }

        op.SetReceivedFlags(received);
    }

    private static void ParsePacketInformation(Operation op, byte* control, int length)
    {
        // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then the data, all 8-aligned.
        const int HeaderSize = 16;
        int offset = 0;
        while (offset + HeaderSize <= length)
        {
            byte* message = control + offset;
            int messageLength = (int)*(nuint*)message;
            if (messageLength < HeaderSize || offset + messageLength > length)
            {
                return;
            }

            int level = *(int*)(message + 8);
            int type = *(int*)(message + 12);
            var data = new ReadOnlySpan<byte>(message + HeaderSize, messageLength - HeaderSize);
            if (level == Interop.Sys.IPPROTO_IP && type == Interop.Sys.IP_PKTINFO && data.Length >= 12)
            {
                // struct in_pktinfo { int ipi_ifindex; struct in_addr ipi_spec_dst; struct in_addr ipi_addr; }
                op.SetPacketInformation(new IPAddress(data.Slice(8, 4)), System.Runtime.InteropServices.MemoryMarshal.Read<int>(data));
                return;
            }

            if (level == Interop.Sys.IPPROTO_IPV6 && type == Interop.Sys.IPV6_PKTINFO && data.Length >= 20)
            {
                // struct in6_pktinfo { struct in6_addr ipi6_addr; unsigned int ipi6_ifindex; }
                op.SetPacketInformation(new IPAddress(data[..16]), System.Runtime.InteropServices.MemoryMarshal.Read<int>(data[16..]));
                return;
            }

            offset += (messageLength + 7) & ~7;
        }
    }
}
