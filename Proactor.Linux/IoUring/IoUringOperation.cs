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
///        +--cancel/close before the ring----+--cancel/close: removed, aborted            +--CQE--> Done --Complete()
///           took it: aborted on arrival                                                   (short send: InFlight again)
/// </code>
/// Everything a submitter or canceller writes (<see cref="Use"/>, <see cref="CancelUse"/>) is
/// published to the ring thread by the Interlocked push onto the engine's command stacks.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class IoUringOperation : Operation
{
    public enum RingState : byte
    {
        Idle,
        Waiting,
        InFlight,
        Done,
    }

    /// <summary>The socket the current use was started on.</summary>
    public IoUringSocket Socket = null!;

    /// <summary>Link in the engine's stack of posted starts.</summary>
    public IoUringOperation? NextPosted;

    /// <summary>Link in the engine's stack of cancel requests.</summary>
    public IoUringOperation? NextCancel;

    /// <summary>1 while the operation sits on the cancel stack (it is pushed at most once at a time).</summary>
    public int CancelQueued;

    /// <summary>Link in its direction's FIFO of waiting operations (ring thread).</summary>
    public IoUringOperation? NextWaiting;

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
    public ulong UserData;
    public MemoryHandle Pin;
    public bool Pinned;

    public void PinBuffer()
    {
        if (!Pinned)
        {
            Pin = Kind == OperationKind.Connect ? Address!.Buffer.Pin() : Buffer.Pin();
            Pinned = true;
        }
    }

    public void Unpin()
    {
        if (Pinned)
        {
            Pin.Dispose();
            Pin = default;
            Pinned = false;
        }
    }
}
