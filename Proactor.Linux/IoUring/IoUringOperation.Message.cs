using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// IORING_OP_SENDMSG/RECVMSG: the msghdr, iovecs, name and control buffer the kernel reads (and
/// writes) while the request is in flight live in one native block per pooled operation, grown
/// when a use needs more iovecs and reused otherwise, so a steady state allocates nothing.
/// </summary>
internal sealed unsafe partial class IoUringOperation
{
    private byte* _messageBlock;
    private int _messageIovCapacity;
    private bool _messageAbandoned;

    ~IoUringOperation()
    {
        // An abandoned block may still be the kernel's (a request that never returned its CQE).
        if (_messageBlock is not null && !_messageAbandoned)
        {
            NativeMemory.Free(_messageBlock);
        }
    }

    /// <summary>On the starting thread, before the ring sees the operation: pins every buffer and
    /// makes sure the native block has room for this use's iovecs.</summary>
    private void PinMessage()
    {
        int iovs = Math.Min(MessageBufferCount, MaxSegmentsPerCall);
        if (_messageBlock is null || _messageIovCapacity < iovs)
        {
            int capacity = Math.Max(iovs, Math.Max(4, _messageIovCapacity * 2));
            capacity = Math.Min(Math.Max(capacity, iovs), MaxSegmentsPerCall);
            byte* block = (byte*)NativeMemory.Alloc((nuint)(MessageIo.ScratchSize + (capacity * sizeof(Interop.Sys.IoVec))));
            if (_messageBlock is not null)
            {
                NativeMemory.Free(_messageBlock); // not in flight: this use has not been posted yet
            }

            _messageBlock = block;
            _messageIovCapacity = capacity;
        }

        PinSegments();
    }

    private void AbandonMessage()
    {
        if (IsMessage)
        {
            _messageAbandoned = true;
            AbandonSegmentPins();
        }
    }

    /// <summary>Ring thread: fills the SQE (again, for the rest of a short gather send).</summary>
    public void FillMessageSqe(Interop.IoUringSqe* sqe)
    {
        var iov = (Interop.Sys.IoVec*)(_messageBlock + MessageIo.ScratchSize);
        bool send = Kind == OperationKind.Send;
        Interop.Sys.MsgHdr* header = MessageIo.Fill(this, _messageBlock, iov, send ? BytesTransferred : 0);
        sqe->Opcode = send ? Interop.Sys.IORING_OP_SENDMSG : Interop.Sys.IORING_OP_RECVMSG;
        sqe->Addr = (ulong)header;
        sqe->Len = 1;
        sqe->OpFlags = (uint)((int)Flags | (send ? Interop.Sys.MSG_NOSIGNAL : 0));
    }

    /// <summary>Ring thread: a RECVMSG returned <paramref name="bytes"/>.</summary>
    public void OnMessageReceived(int bytes) =>
        MessageIo.OnReceived(this, (Interop.Sys.MsgHdr*)_messageBlock, bytes);
}
