using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// IORING_OP_SENDMSG/RECVMSG: the msghdr, iovecs, name and control buffer the kernel reads (and
/// writes) while the request is in flight live in one native block per pooled operation, grown
/// when a use needs more iovecs and reused otherwise, so a steady state allocates nothing.
/// </summary>
/// <remarks>
/// The block has its own small finalizable owner, made by the first message use: the operation
/// itself has no finalizer, so the operations of plain receives and sends (nearly all of them) are
/// neither registered for finalization when made nor kept for a finalizer pass when dropped.
/// </remarks>
internal sealed unsafe partial class IoUringOperation
{
    private NativeMessageBlock? _message;

    /// <summary>Owns the native block; frees it when collected, unless the kernel may still
    /// write it (a request that never returned its CQE).</summary>
    private sealed class NativeMessageBlock
    {
        public byte* Pointer;
        public int IovCapacity;
        public bool Abandoned;

        ~NativeMessageBlock()
        {
            if (Pointer is not null && !Abandoned)
            {
                NativeMemory.Free(Pointer);
            }
        }
    }

    /// <summary>On the starting thread, before the ring sees the operation: pins every buffer and
    /// makes sure the native block has room for this use's iovecs.</summary>
    private void PinMessage()
    {
        int iovs = Math.Min(MessageBufferCount, MaxSegmentsPerCall);
        NativeMessageBlock message = _message ??= new NativeMessageBlock();
        if (message.Pointer is null || message.IovCapacity < iovs)
        {
            int capacity = Math.Max(iovs, Math.Max(4, message.IovCapacity * 2));
            capacity = Math.Min(Math.Max(capacity, iovs), MaxSegmentsPerCall);
            byte* block = (byte*)NativeMemory.Alloc((nuint)(MessageIo.ScratchSize + (capacity * sizeof(Interop.Sys.IoVec))));
            if (message.Pointer is not null)
            {
                NativeMemory.Free(message.Pointer); // not in flight: this use has not been posted yet
            }

            message.Pointer = block;
            message.IovCapacity = capacity;
        }

        PinSegments();
    }

    private void AbandonMessage()
    {
        if (IsMessage)
        {
            // The kernel may still write the block: it is never freed, and a later use gets its own.
            if (_message is { } message)
            {
                message.Abandoned = true;
                _message = null;
            }

            AbandonSegmentPins();
        }
    }

    /// <summary>Ring thread: fills the SQE (again, for the rest of a short gather send).</summary>
    public void FillMessageSqe(Interop.IoUringSqe* sqe)
    {
        byte* block = _message!.Pointer;
        var iov = (Interop.Sys.IoVec*)(block + MessageIo.ScratchSize);
        bool send = Kind == OperationKind.Send;
        Interop.Sys.MsgHdr* header = MessageIo.Fill(this, block, iov, send ? BytesTransferred : 0);
        sqe->Opcode = send ? Interop.Sys.IORING_OP_SENDMSG : Interop.Sys.IORING_OP_RECVMSG;
        sqe->Addr = (ulong)header;
        sqe->Len = 1;
        sqe->OpFlags = (uint)((int)Flags | (send ? Interop.Sys.MSG_NOSIGNAL : 0));
    }

    /// <summary>Ring thread: a RECVMSG returned <paramref name="bytes"/>.</summary>
    public void OnMessageReceived(int bytes) =>
        MessageIo.OnReceived(this, (Interop.Sys.MsgHdr*)_message!.Pointer, bytes);
}
