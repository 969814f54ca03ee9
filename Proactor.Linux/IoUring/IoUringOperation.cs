using System.Buffers;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// An operation of the io_uring proactor: one SQE (or, for a send, a chain of SQEs for the rest
/// after a short write) and the CQE that completes it.
/// </summary>
/// <remarks>
/// Ring-side states, written only by the ring thread:
/// <code>
///   (posted by Start) --ring takes it--> Waiting --head of its direction, SQE filled--> InFlight
///        |                                  |                                            |
///        +--cancel/close before the ring----+--cancel: leaves the FIFO, Done, aborted;    +--CQE--> Done --Complete()
///           took it: Waiting, marked           close: marked AbortWhenDue, aborted         (short send: InFlight again)
///                                              at the head
/// </code>
/// Everything a submitter or canceller writes (<see cref="Use"/>, <see cref="CancelUse"/>, the
/// buffer's <see cref="Pin"/>) is published to the ring thread by the Interlocked push onto the
/// engine's command stacks. A cancelled Waiting operation leaves its FIFO and completes at once
/// (the kernel never saw it), as on every backend: a deadline of an operation queued behind a
/// receive that may never complete must still take effect. Completions with data keep their
/// submission order.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed partial class IoUringOperation : Operation
{
    public enum RingState : byte
    {
        Idle,
        Waiting,
        InFlight,
        Done,
    }

    /// <summary>The socket the current use was started on; none while the object is idle in a
    /// pool (only the ring thread reads it, between the use's start and its completion).</summary>
    public IoUringSocket Socket = null!;

    /// <summary>Link in the engine's stack of posted starts.</summary>
    public IoUringOperation? NextPosted;

    /// <summary>Link in the engine's stack of cancel requests.</summary>
    public IoUringOperation? NextCancel;

    /// <summary>1 while the operation sits on the cancel stack (it is pushed at most once at a time).</summary>
    public int CancelQueued;


    /// <summary>Counts the uses of this pooled object: incremented by each Start, so a late cancel
    /// request of an earlier use can be told apart from one for the current use.</summary>
    public int Use;

    /// <summary>The use a cancel was requested for.</summary>
    public int CancelUse;

    // Ring thread only from here on.
    public RingState State;
    public int StartedUse;
    public int AbortOnStartUse;
    public bool CancelSubmitted;

    /// <summary>Cancelled or aborted while Waiting: completes, aborted, when it reaches the head of
    /// its direction instead of being submitted.</summary>
    public bool AbortWhenDue;

    /// <summary>The current receive of its socket, waiting for the socket's multishot receive to
    /// bring data (it has no request of its own in the kernel).</summary>
    public bool WaitsForMultishot;
    public ulong UserData;
    public MemoryHandle Pin;
    public bool Pinned;

    /// <summary>Pins the buffer; on the starting thread, so that a <c>MemoryManager</c> whose
    /// <c>Pin</c> throws fails the caller's start instead of the ring thread.</summary>
    public void PinBuffer()
    {
        if (!Pinned && IsMessage)
        {
            PinMessage();
            Pinned = true;
            return;
        }

        if (!Pinned)
        {
            Pin = Kind == OperationKind.Connect ? Address!.Buffer.Pin() : Buffer.Pin();
            Pinned = true;
        }
    }

    /// <summary>Gives up the pin without releasing it: the kernel may still write the buffer (a
    /// request that never returned its CQE), so it must never move or be reused by the GC. A leak,
    /// as tokio-uring leaks the buffers of operations still in flight when its runtime ends.</summary>
    public void AbandonPin()
    {
        AbandonMessage();
        Pin = default;
        Pinned = false;
    }

    protected override void OnReleased() => Socket = null!;

    public void Unpin()
    {
        if (Pinned && IsMessage)
        {
            UnpinSegments();
            Pinned = false;
            return;
        }

        if (Pinned)
        {
            Pin.Dispose();
            Pin = default;
            Pinned = false;
        }
    }
}
