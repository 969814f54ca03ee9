using System;
using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace Proactor;

/// <summary>
/// What only some operations use (connect and send-to addresses, the completion-queue API,
/// timeouts, messages, file sends, readiness waits) lives in one side object, made the first time
/// such an operation needs it and kept with the pooled object, so steady state still allocates
/// nothing. A plain receive or send, what an idle connection holds, is that much smaller: every
/// idle connection pays for its pending receive's fields (see docs/bench.md, "Memory per idle connection").
/// </summary>
internal abstract partial class Operation
{
    private RareState? _rare;

    private RareState Rare => _rare ??= new RareState();

    private sealed class RareState
    {
        public SocketAddress? Address;
        public object? UserToken;
        public CompletionQueue? Queue;

        // In queue mode the object is released by whichever of two parties finishes last: the
        // submitter (after registering the token) and the completion. Otherwise a completion that
        // raced ahead would recycle the object under the submitter's feet.
        public int QueueReferences;
        public TimerEntry? TimeoutEntry;
        public string? ErrorMessage;

        public Memory<byte>[]? Segments;
        public SocketAddress? OwnAddress;
        public EndPoint? EndPointTemplate;
        public IPAddress? PacketAddress;
        public int PacketInterface;
        public SocketFlags Flags;
        public SocketFlags ReceivedFlags;
        public SocketAddress? PeerAddress;
        public bool WantsPacketInformation;
        public MemoryHandle[]? SegmentPins;
        public int SegmentCount;

        public SafeFileHandle? SendFileHandle;
        public long FileOffset;

        public SocketEvents RequestedEvents;
        public bool WaitForNextReport;
        public Action<Operation>? ReadinessCallback;

        /// <summary>Prepare's part: what one use must not inherit from the last.</summary>
        public void Reset(SocketAddress? address, CompletionQueue? queue, object? userToken)
        {
            Address = address;
            Queue = queue;
            QueueReferences = queue is null ? 0 : 2;
            UserToken = userToken;
            ErrorMessage = null;
            SendFileHandle = null;
            Flags = SocketFlags.None;
            ReceivedFlags = SocketFlags.None;
            PeerAddress = null;
            WantsPacketInformation = false;
            PacketAddress = null;
            PacketInterface = 0;
            EndPointTemplate = null;
            SegmentCount = 0;
        }
    }

    /// <summary>Prepare's part of the rare state, without making it for an operation that needs none.</summary>
    private void ResetRare(SocketAddress? address, CompletionQueue? queue, object? userToken)
    {
        if (_rare is not null || address is not null || queue is not null || userToken is not null)
        {
            Rare.Reset(address, queue, userToken);
        }
    }

    /// <summary>Release's part: drops the caller's objects, so a pooled object keeps none alive.</summary>
    private void ClearRare()
    {
        if (_rare is not { } rare)
        {
            return;
        }

        rare.Address = null;
        rare.UserToken = null;
        rare.Queue = null;
        rare.SendFileHandle = null; // the caller may close its file now: the pool must not keep it alive
        rare.PeerAddress = null;
        rare.PacketAddress = null;
        rare.EndPointTemplate = null;
    }

    /// <summary>The connect target in the OS's sockaddr form.</summary>
    public SocketAddress? Address => _rare?.Address;

    public object? UserToken => _rare?.UserToken;

    public CompletionQueue? Queue => _rare?.Queue;

    private string? ErrorMessage
    {
        get => _rare?.ErrorMessage;
        set
        {
            if (value is not null || _rare is not null)
            {
                Rare.ErrorMessage = value;
            }
        }
    }
}
