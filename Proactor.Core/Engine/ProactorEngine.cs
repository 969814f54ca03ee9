using System;
using System.Net.Sockets;
using System.Threading;

namespace Proactor;

/// <summary>
/// One running backend instance: its loop or completion-port thread(s), its socket registrations
/// and its completions. Every <see cref="ProactorSocket"/> belongs to exactly one engine.
/// </summary>
/// <remarks>
/// Create one with <c>EngineFactory.Create()</c> (the right backend for the running OS) or name a
/// backend in <see cref="EngineOptions.Backend"/>. Disposing the engine stops its threads, aborts
/// every operation still pending on its sockets (each completes once with
/// <see cref="SocketError.OperationAborted"/>) and closes its descriptors.
/// </remarks>
public abstract partial class ProactorEngine : IDisposable
{
    private int _disposed;

    private protected ProactorEngine(EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxEventsPerWait is < 1 or > 65536)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxEventsPerWait,
                "EngineOptions.MaxEventsPerWait must be between 1 and 65536.");
        }

        Options = options;
        Statistics = new EngineStatistics(this);
        CompletionBatch = new CompletionBatch(this);
        ApplicationWork = new Pipelines.ApplicationWorkBatch(this);
    }

    private static int s_instances;
    private readonly int _instance = Interlocked.Increment(ref s_instances);
    private string? _instanceName;

    /// <summary>
    /// This engine's name in metrics (the <c>engine</c> tag) and logs: <see cref="EngineOptions.InstanceName"/>,
    /// or <see cref="Name"/> with a number unique in the process (e.g. <c>epoll-et-3</c>), so the
    /// loops of a group are told apart.
    /// </summary>
    public string InstanceName => _instanceName ??= Options.InstanceName ?? $"{Name}-{_instance}";

    /// <summary>The running totals behind the metrics.</summary>
    internal EngineStatistics Statistics { get; }

    /// <summary>Backends call this once per iteration of their loop (after each wait).</summary>
    internal void OnLoopIteration() => Statistics.OnLoopIteration();

    /// <summary>Where thread-pool completions wait for the end of the loop iteration.</summary>
    internal CompletionBatch CompletionBatch { get; }

    /// <summary>Backends call this on their loop thread at the end of every loop iteration (after
    /// the last thing that may complete an operation: readiness, deadlines, posted work) and once
    /// more after their shutdown: hands the iteration's thread-pool completions to the pool in one
    /// work item. True when that queued a new worker (none was running the engine's batch).</summary>
    internal bool FlushCompletions()
    {
        bool queuedWorker = CompletionBatch.Flush();
        ApplicationWork.Flush();
        return queuedWorker;
    }

    /// <summary>Where pipe connections on this engine resume their application: after the
    /// iteration, in one pool work item (see <see cref="Pipelines.ApplicationWorkBatch"/>).</summary>
    internal Pipelines.ApplicationWorkBatch ApplicationWork { get; }

    /// <summary>A pool thread has run a batch of this engine's continuations (or stopped early)
    /// and owes the wake-up that posts from it deferred (<see cref="CompletionBatch.OweWake"/>);
    /// called on that thread. A backend that defers must bound the deferral, since a continuation
    /// may block before its batch ends.</summary>
    internal virtual void OnBatchDelivered()
    {
    }

    /// <summary>A pool thread has finished running a batch of this engine's continuations (after
    /// the worker count went down, before <see cref="OnBatchDelivered"/>); called on that thread.</summary>
    internal virtual void OnBatchWorkerDone()
    {
    }

    /// <summary>The options this engine was created with.</summary>
    public EngineOptions Options { get; }

    /// <summary>The backend this engine runs on.</summary>
    public abstract BackendKind Backend { get; }

    /// <summary>A short name of the backend and its mode, e.g. <c>epoll-et</c>.</summary>
    public abstract string Name { get; }

    /// <summary>When the default selection could not use the preferred backend, why; otherwise null.</summary>
    public string? FallbackReason { get; internal set; }

    /// <summary>How continuations of awaited operations are run.</summary>
    public CompletionDispatch Dispatch => Options.Dispatch;

    /// <summary>True once <see cref="Dispose()"/> has begun.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Creates a completion queue: submit operations to it and read their completions
    /// from <see cref="CompletionQueue.Reader"/>.</summary>
    /// <param name="singleReader">True when only one reader drains the queue at a time (faster).</param>
    public CompletionQueue CreateCompletionQueue(bool singleReader = false)
    {
        ThrowIfDisposed();
        return new CompletionQueue(this, singleReader);
    }

    /// <summary>True when the calling thread is one of this engine's loop or completion-port threads
    /// (with <see cref="CompletionDispatch.Inline"/>, continuations run there and must not block).</summary>
    public bool IsEngineThread => t_currentEngine == this;

    /// <summary>Throws the <see cref="ObjectDisposedException"/> of a disposed engine, naming the public
    /// type (the backend's own type, e.g. a generic emulated engine, means nothing to a user).</summary>
    internal void ThrowIfDisposed()
    {
        if (IsDisposed)
        {
            ThrowDisposed();
        }
    }

    /// <summary>Throws the <see cref="ObjectDisposedException"/> of a disposed engine.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    internal void ThrowDisposed() =>
        throw new ObjectDisposedException(nameof(ProactorEngine), $"The {Name} engine was disposed.");

    /// <summary>Registers an OS socket with this engine. Called once per socket.</summary>
    internal abstract EngineSocket Register(ProactorSocket owner, Socket socket);

    /// <summary>Registers an accepted stream connection that has no runtime <see cref="Socket"/>, only
    /// its descriptor (which the engine then owns; the caller disposes it when this throws). Only
    /// backends whose accepts produce such descriptors implement it.</summary>
    internal virtual EngineSocket RegisterAccepted(ProactorSocket owner, System.Runtime.InteropServices.SafeHandle descriptor, AddressFamily addressFamily) =>
        throw new NotSupportedException($"The {Name} backend accepts connections as runtime Sockets.");

    [ThreadStatic]
    private static ProactorEngine? t_currentEngine;

    /// <summary>True on a loop or completion thread of any engine (a thread that must never wait
    /// for another engine's loop).</summary>
    internal static bool IsOnAnyEngineThread => t_currentEngine is not null;

    /// <summary>Backends call this first thing on each of their loop / completion threads.</summary>
    internal void EnterEngineThread()
    {
        t_currentEngine = this;

        // The engine is fully constructed once its thread runs (a backend whose setup failed
        // never gets here), so only live engines are observed.
        ProactorMetrics.Track(this);
    }

    /// <summary>The engine's deadlines. Backends wait at most
    /// <see cref="TimerQueue.GetWaitTimeoutMilliseconds"/> and call <see cref="TimerQueue.RunDue"/>
    /// after every wait, on their loop thread.</summary>
    internal TimerQueue Timers { get; } = new();

    /// <summary>Makes the loop return from its current wait soon (to re-read the earliest deadline).
    /// Callable from any thread.</summary>
    internal abstract void WakeLoop();

    /// <summary>Schedules <paramref name="entry"/> on the loop, <paramref name="dueIn"/> from now
    /// (replacing its previous deadline). Callable from any thread.</summary>
    internal TimerScheduleResult ScheduleTimer(TimerEntry entry, TimeSpan dueIn)
    {
        TimerScheduleResult result = Timers.Schedule(entry, TimerQueue.DueAfter(dueIn));
        if (result == TimerScheduleResult.Earliest)
        {
            WakeLoop();
        }

        return result;
    }

    /// <summary>How long <see cref="Dispose()"/> waits for an engine thread before it reports and
    /// returns (a continuation blocking an inline loop must not hang the disposing thread for good).</summary>
    private protected static readonly TimeSpan ThreadJoinBound = TimeSpan.FromSeconds(10);

    /// <summary>Joins an engine thread within <see cref="ThreadJoinBound"/>; reports one that does
    /// not stop through <see cref="EngineOptions.Warning"/>. Returns whether it stopped.</summary>
    private protected bool JoinEngineThread(Thread thread)
    {
        if (thread == Thread.CurrentThread || thread.Join(ThreadJoinBound))
        {
            return true;
        }

        Warn("dispose-join",
            $"Proactor: the {Name} engine thread '{thread.Name}' did not stop within {ThreadJoinBound.TotalSeconds:F0} s of Dispose " +
            "(an inline continuation blocking it?); Dispose returned without it.");
        return false;
    }

    /// <summary>Stops the engine and releases its resources. A pending <see cref="Delay"/> then
    /// fails with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Dispose(disposing: true);
        ProactorMetrics.Untrack(this);

        // No deadline fires after this: the ones still pending learn that the engine is gone.
        foreach (TimerEntry entry in Timers.Close())
        {
            entry.InvokeClosed();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Stops the engine's threads, aborts pending operations and closes descriptors.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected abstract void Dispose(bool disposing);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
