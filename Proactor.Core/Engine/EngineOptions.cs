using System;
using Microsoft.Extensions.Logging;

namespace Proactor;

/// <summary>Options that choose and shape an engine. A record: derive variants with <c>with</c>.</summary>
public sealed record EngineOptions
{
    /// <summary>Which backend to run. <see cref="BackendKind.Default"/> picks the best one for the OS.</summary>
    public BackendKind Backend { get; init; } = BackendKind.Default;

    /// <summary>How continuations of awaited operations are run.</summary>
    public CompletionDispatch Dispatch { get; init; } = CompletionDispatch.ThreadPool;

    /// <summary>For <see cref="BackendKind.Epoll"/>: register descriptors level-triggered instead of
    /// edge-triggered. Level-triggered registrations are re-armed as operations queue and drain.</summary>
    public bool EpollLevelTriggered { get; init; }

    /// <summary>
    /// For <see cref="BackendKind.IoUring"/>: a receive or send started off the ring thread, with
    /// nothing of its direction queued or in flight, is first tried with one non-blocking syscall
    /// on the starting thread, and becomes an SQE only if it would block (the default). A send
    /// that fits the socket buffer or a receive whose data is there then completes synchronously,
    /// without two thread hops through the ring. <c>false</c> makes every operation an SQE: the
    /// pure completion design, for comparison.
    /// </summary>
    public bool IoUringTryBeforeSubmit { get; init; } = true;

    /// <summary>How many readiness events or completions one wait of the loop may return.</summary>
    public int MaxEventsPerWait { get; init; } = 256;

    /// <summary>The name given to the engine's threads, for debuggers and traces.</summary>
    public string? ThreadName { get; init; }

    /// <summary>With <see cref="CompletionDispatch.Inline"/>: a continuation that holds the loop
    /// thread longer than this is counted (metric <c>proactor.inline_handler.slow</c>) and reported
    /// through <see cref="Warning"/>, at most once per <see cref="WarningInterval"/>.</summary>
    public TimeSpan InlineHandlerWarningThreshold { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The shortest time between two warnings of the same kind.</summary>
    public TimeSpan WarningInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Receives the engine's warnings (a blocking inline handler, a backend fallback).
    /// When neither this nor <see cref="Logger"/> is set, warnings are written to standard error.</summary>
    public Action<string>? Warning { get; init; }

    /// <summary>Receives the engine's warnings as <see cref="LogLevel.Warning"/> entries with an
    /// event id per kind (see docs/operations.md). When set, standard error gets nothing; a
    /// <see cref="Warning"/> callback set as well still receives them too.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>The engine's name in metrics (the <c>engine</c> tag) and thread names of a group;
    /// null names it after its backend and a number unique in the process (e.g. <c>epoll-et-3</c>).
    /// The engines of a group made with <c>EngineFactory.CreateGroup</c> get <c>-0</c>, <c>-1</c>…
    /// appended.</summary>
    public string? InstanceName { get; init; }

    /// <summary>
    /// Forces the io_uring fallback, for tests and for trying a deployment's fallback path: a Linux
    /// errno (for example 38 <c>ENOSYS</c>, 1 <c>EPERM</c>, 12 <c>ENOMEM</c>) that io_uring setup
    /// fails with as if the kernel had refused it. Then <see cref="BackendKind.IoUring"/> throws a
    /// <see cref="NotSupportedException"/> saying why, and <see cref="BackendKind.Default"/> falls
    /// back to epoll and records why in <see cref="ProactorEngine.FallbackReason"/>. Zero (the
    /// default) probes the kernel for real.
    /// </summary>
    internal int IoUringSimulatedSetupError { get; init; }

    /// <summary>The options every default-constructed engine uses.</summary>
    public static EngineOptions Default { get; } = new();
}
