using System;

namespace Proactor.Windows;

/// <summary>
/// Test-only switches of the IOCP engine: they reach paths that the machine running the tests would
/// otherwise never take (a layered provider that refuses FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, a
/// stack that takes a send in small pieces, a completion thread that does not stop).
/// </summary>
internal sealed record IocpTestHooks
{
    /// <summary>Behave as if SetFileCompletionNotificationModes were refused: every operation
    /// completes through the port (real Windows does this with non-IFS layered providers).</summary>
    public bool ForceNoSkipCompletionPortOnSuccess { get; init; }

    /// <summary>Hand at most this many bytes to each WSASend, so a send completes in pieces and the
    /// re-issue of the rest runs; 0 hands nothing (a stack reporting success without progress).</summary>
    public int MaxBytesPerSend { get; init; } = int.MaxValue;

    /// <summary>How long the engine waits for the OS to return the calls of a closed socket (or, at
    /// shutdown, of every socket) before it abandons them (completes them aborted, keeping their memory).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Drop every packet of a call whose socket was closed, as a stack that never returns
    /// an aborted call does (Wine 8, now and then).</summary>
    public bool LosePacketsOfClosedSockets { get; init; }

    /// <summary>How long Dispose waits for the completion thread to end before it reports and returns.</summary>
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Runs on the completion thread after a packet finished an operation (of the kind
    /// given), under its direction's lock, just before the finished operations are delivered: lets
    /// a test hold the lock while another thread cancels.</summary>
    public Action<OperationKind>? WhileDeliveringUnderLock { get; init; }
}
