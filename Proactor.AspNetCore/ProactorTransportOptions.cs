using System;
using System.IO.Pipelines;
using Proactor.Pipelines;

namespace Proactor.AspNetCore;

/// <summary>How Kestrel's Proactor transport runs: which engines, how connections spread over
/// them, and how each connection buffers. Set through <c>UseProactor(options => …)</c>.</summary>
public sealed class ProactorTransportOptions
{
    /// <summary>The options of every engine the transport creates: backend, dispatch, thread names.
    /// Default: the OS's best backend (io_uring falling back to epoll on Linux, IOCP on Windows)
    /// with <see cref="CompletionDispatch.Inline"/> dispatch. Inline is safe here, unlike for an
    /// application's own awaits: only the transport's short I/O continuations run on the loop
    /// threads (request handling goes to the thread pool unless <see cref="ApplicationScheduler"/>
    /// says otherwise, in one work item per loop iteration), and it saves a thread hop per receive and, on io_uring, the wake-up of the ring thread for every zero-byte wait that
    /// a thread-pool thread would otherwise post.</summary>
    public EngineOptions Engine { get; set; } = EngineOptions.Default with { ThreadName = "proactor-kestrel", Dispatch = CompletionDispatch.Inline };

    /// <summary>Shorthand for <see cref="EngineOptions.Backend"/> of <see cref="Engine"/>.</summary>
    public BackendKind Backend
    {
        get => Engine.Backend;
        set => Engine = Engine with { Backend = value };
    }

    /// <summary>Shorthand for <see cref="EngineOptions.Dispatch"/> of <see cref="Engine"/>:
    /// <see cref="CompletionDispatch.Inline"/> (the default) runs the transport's I/O continuations on
    /// the loop threads (request handling still runs on the thread pool);
    /// <see cref="CompletionDispatch.ThreadPool"/> runs them on the thread pool. <see cref="CompletionDispatch.Queue"/>
    /// has no awaits to run and is refused when the server starts.</summary>
    public CompletionDispatch Dispatch
    {
        get => Engine.Dispatch;
        set => Engine = Engine with { Dispatch = value };
    }

    /// <summary>How many engine loops (main + sub loops): connections are spread over them and stay
    /// on theirs. 0 (the default) means one per processor the process may run on.</summary>
    public int Loops { get; set; }

    /// <summary>How accepted connections are spread over the loops.</summary>
    public AcceptDistribution Distribution { get; set; } = AcceptDistribution.RoundRobin;

    /// <summary>The listening socket's accept backlog.</summary>
    public int Backlog { get; set; } = 512;

    /// <summary>Disable Nagle's algorithm on every connection (the default, as Kestrel's Sockets transport).</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>Unread request bytes at which a connection stops receiving; null for no limit. Default 1 MiB.</summary>
    public long? MaxReadBufferSize { get; set; } = 1024 * 1024;

    /// <summary>Unsent response bytes at which the application's flush waits; null for no limit. Default 64 KiB.</summary>
    public long? MaxWriteBufferSize { get; set; } = 64 * 1024;

    /// <summary>Wait with a zero-byte receive before renting a buffer, so idle keep-alive
    /// connections hold none (the default). See <see cref="ProactorConnectionOptions.WaitForDataBeforeAllocatingBuffer"/>.</summary>
    public bool WaitForDataBeforeAllocatingBuffer { get; set; } = true;

    /// <summary>Where Kestrel's request handling is resumed when a connection's input or output
    /// pipe wakes it. Null (the default): on the thread pool, never on a loop thread, in as few
    /// pool work items as the dispatch allows (with <see cref="CompletionDispatch.Inline"/> dispatch,
    /// the requests one loop iteration received go to the pool as one work item; with
    /// <see cref="CompletionDispatch.ThreadPool"/>, a request runs on the pool thread that received
    /// it); see <see cref="ProactorConnectionOptions.ApplicationScheduler"/>.
    /// <see cref="PipeScheduler.ThreadPool"/> queues one pool work item per
    /// resumption. <see cref="PipeScheduler.Inline"/> runs request handling
    /// wherever the transport resumes it, with inline dispatch on the loop threads: no hop at all,
    /// and unsafe (as Kestrel's Sockets <c>UnsafePreferInlineScheduling</c>): a request that
    /// blocks stalls every connection of its loop.</summary>
    public PipeScheduler? ApplicationScheduler { get; set; }

    /// <summary>An engine group of your own to serve on (not disposed by the transport); null (the
    /// default) makes the transport create one from <see cref="Engine"/> and <see cref="Loops"/>
    /// when the first endpoint is bound, and dispose it with the server.</summary>
    public ProactorEngineGroup? EngineGroup { get; set; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Engine);
        ArgumentOutOfRangeException.ThrowIfNegative(Loops);
        ArgumentOutOfRangeException.ThrowIfNegative(Backlog);
        if (MaxReadBufferSize is < 0 || MaxWriteBufferSize is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxReadBufferSize), "MaxReadBufferSize and MaxWriteBufferSize must be null (no limit) or not negative.");
        }

        if (EngineGroup is null && Engine.Dispatch == CompletionDispatch.Queue)
        {
            throw new ArgumentException("The Kestrel transport awaits its operations; CompletionDispatch.Queue delivers completions to a queue instead. Use ThreadPool or Inline.", nameof(Dispatch));
        }
    }

    internal ProactorConnectionOptions ToConnectionOptions(Pipelines.PinnedBlockMemoryPool pool) => new()
    {
        MemoryPool = pool,
        InputPauseThreshold = MaxReadBufferSize ?? 0,
        InputResumeThreshold = (MaxReadBufferSize ?? 0) / 2,
        OutputPauseThreshold = MaxWriteBufferSize ?? 0,
        OutputResumeThreshold = (MaxWriteBufferSize ?? 0) / 2,
        WaitForDataBeforeAllocatingBuffer = WaitForDataBeforeAllocatingBuffer,
        ApplicationScheduler = ApplicationScheduler,
        CreateResetException = static (message, inner) => new Microsoft.AspNetCore.Connections.ConnectionResetException(message, inner),
        CreateAbortedException = static (message, inner) => inner is null
            ? new Microsoft.AspNetCore.Connections.ConnectionAbortedException(message)
            : new Microsoft.AspNetCore.Connections.ConnectionAbortedException(message, inner),
    };
}
