using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks.Sources;

namespace Proactor;

/// <summary>
/// One submitted request with its buffer. Pooled: a socket keeps one per direction, so steady-state
/// receives and sends allocate nothing. The awaitable API hands out
/// <c>new ValueTask&lt;T&gt;(operation, Version)</c>; the completion-queue API posts a
/// <see cref="Completion"/> instead.
/// </summary>
/// <remarks>
/// State diagram (one cycle of a pooled object):
/// <code>
///   Idle --Prepare--> Submitted --backend.Start returns false--------------------> (sync result read by the socket) --> Idle
///                        |
///                        +--backend.Start returns true--> Pending --Complete (exactly once)--> Completed
///                                                                                               |
///               Idle &lt;--Release (after GetResult, or after the Completion was posted)-----------+
/// </code>
/// Between Start returning true and Complete, only the backend touches the buffer. Cancel requests
/// (token or close) never complete the operation themselves: they ask the backend, whose completion
/// decides. The registration of the token is disposed before the object returns to its pool, so a
/// late cancel can never reach the next use of the object.
/// </remarks>
internal abstract partial class Operation : IValueTaskSource<int>, IValueTaskSource, IValueTaskSource<ProactorSocket>
{
    private ManualResetValueTaskSourceCore<int> _core;
    private CancellationToken _cancellationToken;
    private CancellationTokenRegistration _registration;
    private int _completed;
    private volatile bool _cancelRequested;
    private byte _cancelReason; // a byte, as Kind: every idle connection's pending receive carries these fields
    private byte _kind;
    private bool _timeoutScheduled;
    private bool _inline;
    private bool _streamErrors;
    private bool _counted;

    // Why an end was requested: the first reason wins; a close (Owner.IsDisposed) overrides both.
    private const byte CancelReasonNone = 0;
    private const byte CancelReasonToken = 1;
    private const byte CancelReasonTimeout = 2;

    protected Operation()
    {
        // Never asynchronously: an inline completion runs its continuation on the loop, and a
        // thread-pool completion is already on a pool thread when it sets the result (CompletionBatch).
        _core.RunContinuationsAsynchronously = false;
    }

    public OperationKind Kind
    {
        get => (OperationKind)_kind;
        private set => _kind = (byte)value;
    }

    /// <summary>The socket the operation was submitted on.</summary>
    public ProactorSocket Owner { get; private set; } = null!;

    /// <summary>The caller's buffer (a send's read-only memory is carried here too; it is never written).</summary>
    public Memory<byte> Buffer { get; private set; }

    /// <summary>The next operation in the same <see cref="OperationFifo{T}"/> (intrusive link).</summary>
    internal Operation? QueueNext;

    /// <summary>Bytes moved so far; the backend advances it on partial sends.</summary>
    public int BytesTransferred;

    public SocketError Error;

    // An accept's new connection, one stage at a time (one field, not three, in every operation):
    // the backend's Socket or bare descriptor, then the ProactorSocket wrapping it.
    private object? _accepted;

    /// <summary>For an accept: the OS socket of the new connection, set by the backend.</summary>
    public Socket? AcceptedSocket
    {
        get => _accepted as Socket;
        set => _accepted = value;
    }

    /// <summary>For an accept on a backend that runs connections on their bare descriptors (Linux):
    /// the new connection's descriptor, owned by this operation until it is wrapped.</summary>
    public SafeHandle? AcceptedDescriptor
    {
        get => _accepted as SafeHandle;
        set => _accepted = value;
    }

    public short Version => _core.Version;

    public bool CancelRequested => _cancelRequested;

    /// <summary>True when <see cref="Complete"/> may run the caller's continuation on this thread
    /// (inline dispatch); false when it only posts to a completion queue or schedules on the pool.</summary>
    internal bool CompletesInline => _inline;

    internal void Prepare(
        OperationKind kind,
        ProactorSocket owner,
        Memory<byte> buffer,
        SocketAddress? address,
        CompletionQueue? queue,
        object? userToken)
    {
        _core.Reset();
        _inline = queue is null && owner.EffectiveDispatch == CompletionDispatch.Inline;
        _completed = 0;
        _cancelRequested = false;
        _cancelReason = CancelReasonNone;
        _timeoutScheduled = false;
        _streamErrors = false;
        _counted = false;
        owner.Engine.Statistics.OnStarted(kind);

        Kind = kind;
        Owner = owner;
        Buffer = buffer;
        ResetRare(address, queue, userToken);
        BytesTransferred = 0;
        Error = SocketError.Success;
        _accepted = null;
        ResetMessage();
    }

    /// <summary>For <see cref="ProactorStream"/>: socket errors surface as an <see cref="System.IO.IOException"/>
    /// around the <see cref="SocketException"/>, as <see cref="NetworkStream"/> reports them. Call after Prepare.</summary>
    internal void ReportErrorsAsStream() => _streamErrors = true;

    /// <summary>Ties a pending operation to the caller's token. Call only after Start returned true.</summary>
    internal void RegisterCancellation(CancellationToken cancellationToken)
    {
        _cancellationToken = cancellationToken;
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(static s => ((Operation)s!).RequestCancel(), this);
        }
    }

    /// <summary>
    /// Arms the per-operation deadline on the engine's timer heap. Call only after Start returned
    /// true. When it fires first, the operation is cancelled and completes with
    /// <see cref="SocketError.TimedOut"/>; the socket stays usable.
    /// </summary>
    internal void ScheduleTimeout(TimeSpan timeout)
    {
        RareState rare = Rare;
        rare.TimeoutEntry ??= new TimerEntry(static s => ((Operation)s!).RequestCancel(CancelReasonTimeout), this);
        _timeoutScheduled = true;
        Owner.Engine.ScheduleTimer(rare.TimeoutEntry, timeout);
    }

    /// <summary>Asks the backend to end the operation early; its completion decides the outcome.</summary>
    internal void RequestCancel() => RequestCancel(CancelReasonToken);

    private void RequestCancel(byte reason)
    {
        Interlocked.CompareExchange(ref _cancelReason, reason, CancelReasonNone);
        _cancelRequested = true;
        Owner.EngineSocket.Cancel(this);
    }

    /// <summary>
    /// Called by the backend, exactly once, when a pending operation has finished: success, error,
    /// cancelled or aborted by close. Runs or schedules the continuation, or posts the completion.
    /// </summary>
    public void Complete()
    {
        if (CompleteKeepingQueueReference())
        {
            ReleaseQueueReference();
        }
    }

    /// <summary>
    /// <see cref="Complete"/>, except that a completion-queue operation keeps the completion's
    /// reference: returns true when the caller must still drop it with
    /// <see cref="ReleaseQueueReference"/>. A backend that completes while holding a lock that its
    /// Cancel also takes calls this and drops the reference after unlocking: the last drop releases
    /// the object, and releasing disposes the token registration, which waits for a cancel callback
    /// running on another thread — one that may be waiting for that very lock.
    /// </summary>
    internal bool CompleteKeepingQueueReference()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            // A second completion would hand the buffer back twice: a backend bug, never a user error.
            Environment.FailFast($"Proactor: {Kind} operation completed twice by {Owner.Engine.Name}.");
        }

        if (ReadinessCallback is { } callback)
        {
            callback(this); // a reactor registration's own wait: its owner dispatches, on this (the engine's) thread
            return false;
        }

        WrapAcceptedSocket();
        if (Error == SocketError.OperationAborted && _cancelReason == CancelReasonTimeout && !Owner.IsDisposed)
        {
            Error = SocketError.TimedOut;
            ProactorMetrics.TimedOutOperations.Add(1, ProactorMetrics.BackendTag(Owner.Engine), ProactorMetrics.EngineTag(Owner.Engine));
        }

        // Counted before the continuation can run (inline, it may recycle this object at once).
        CountCompletion();

        if (Kind == OperationKind.Connect && Error == SocketError.Success)
        {
            Owner.OnConnected();
        }

        if (Queue is { } queue)
        {
            queue.Post(ToCompletion());
            return true;
        }

        if (!_inline)
        {
            // Thread-pool dispatch: the engine's batch sets the result on a pool thread, where the
            // continuation then runs synchronously.
            Owner.Engine.CompletionBatch.Add(this);
            return false;
        }

        // Inline: the continuation may run right here, on the loop thread. Time it, so a handler
        // that blocks the loop is counted and reported. (The object may be recycled by the time
        // SetCoreResult returns: only the engine captured before is used afterwards.)
        ProactorEngine engine = Owner.Engine;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        SetCoreResult();
        engine.OnInlineHandlerRan(System.Diagnostics.Stopwatch.GetTimestamp() - start);
        return false;
    }

    /// <summary>Adds this operation's end to the engine's statistics, once per cycle: here for a
    /// completion, or at release for an operation that finished synchronously.</summary>
    private void CountCompletion()
    {
        if (_counted)
        {
            return;
        }

        _counted = true;
        OperationResult result = Error switch
        {
            SocketError.Success => OperationResult.Success,
            SocketError.TimedOut => OperationResult.TimedOut,
            SocketError.OperationAborted when IsCanceledResult => OperationResult.Cancelled,
            SocketError.OperationAborted => OperationResult.Aborted,
            _ => OperationResult.Error,
        };
        Owner.Engine.Statistics.OnCompleted(Kind, result, BytesTransferred);
    }

    private void SetCoreResult()
    {
        if (Error == SocketError.Success)
        {
            _core.SetResult(BytesTransferred);
        }
        else
        {
            _core.SetException(CreateException());
        }
    }

    /// <summary>Pool thread, from the engine's <see cref="Proactor.CompletionBatch"/>: delivers the result; the
    /// continuation runs here (or is posted to the context it captured).</summary>
    internal void DeliverBatched() => SetCoreResult();

    /// <summary>For an operation that completed synchronously in Start: wrap the accepted socket.</summary>
    internal void OnCompletedSynchronously() => WrapAcceptedSocket();

    internal Completion ToCompletion()
    {
        if (Error != SocketError.Success)
        {
            Owner.OnOperationFailed(Error);
        }

        return ToCompletionCore();
    }

    private Completion ToCompletionCore() => new(
        Kind,
        Owner,
        Buffer,
        BytesTransferred,
        Error,
        IsCanceledResult,
        UserToken,
        TakeAcceptedSocket()); // the completion's reader now owns the accepted connection

    internal ProactorSocket? TakeAcceptedSocket()
    {
        var s = _accepted as ProactorSocket;
        _accepted = null;
        return s;
    }

    private bool IsCanceledResult =>
        Error == SocketError.OperationAborted && _cancelReason == CancelReasonToken && !Owner.IsDisposed;

    internal Exception CreateException()
    {
        Owner.OnOperationFailed(Error);
        if (IsCanceledResult)
        {
            return new OperationCanceledException(_cancellationToken);
        }

        // A registration refused on accept (select's FD_SETSIZE) explains itself: keep its message.
        var socketError = ErrorMessage is not { } message ? new SocketException((int)Error) : new SocketException((int)Error, message);
        if (!_streamErrors)
        {
            return socketError;
        }

        string verb = Kind == OperationKind.Receive ? "read data from" : "write data to";
        return new System.IO.IOException($"Unable to {verb} the transport connection: {socketError.Message}.", socketError);
    }

    private void WrapAcceptedSocket()
    {
        if (_accepted is not IDisposable accepted || accepted is ProactorSocket)
        {
            return;
        }

        _accepted = null;
        if (Error != SocketError.Success)
        {
            accepted.Dispose();
            return;
        }

        try
        {
            ProactorEngine target = Owner.AcceptedEngineSelector?.Invoke() ?? Owner.Engine;
            _accepted = accepted is Socket socket
                ? new ProactorSocket(target, socket)
                : new ProactorSocket(target, (SafeHandle)accepted, Owner.AddressFamily);
        }
        catch (SocketException e)
        {
            accepted.Dispose();
            Error = e.SocketErrorCode;
            ErrorMessage = e.Message;
        }
        catch (ObjectDisposedException)
        {
            // The engine was disposed while the connection was being accepted.
            accepted.Dispose();
            Error = SocketError.OperationAborted;
        }
    }

    /// <summary>Queue mode: drops one of the two references (submitter, completion); the last releases.</summary>
    internal void ReleaseQueueReference()
    {
        if (Interlocked.Decrement(ref _rare!.QueueReferences) == 0)
        {
            Release();
        }
    }

    /// <summary>Returns the object to its socket's pool. Only after the final completion was observed.</summary>
    internal void Release()
    {
        CountCompletion();
        if (_timeoutScheduled)
        {
            // Waits for a timeout callback running on another thread, so it cannot reach the next use.
            Owner.Engine.Timers.Cancel(_rare!.TimeoutEntry!);
            _timeoutScheduled = false;
        }

        _registration.Dispose();
        _registration = default;
        _cancellationToken = default;
        Buffer = default;
        ClearMessage();
        ClearRare();
        IDisposable? accepted = _accepted as IDisposable;
        _accepted = null;
        accepted?.Dispose(); // accepted but never collected by the caller (engine shutting down)

        // An idle object must not keep its last socket alive: shared by an engine's sockets, it
        // would otherwise keep a closed one (and what it references) reachable from the pool until
        // the object's next use, which may never come.
        ProactorSocket owner = Owner;
        Owner = null!;
        OnReleased();
        owner.ReturnOperation(this);
    }

    /// <summary>The object is going back to its pool: a backend drops what it keeps of the use
    /// that ended (its backend socket above all), for the reason <see cref="Owner"/> is cleared.</summary>
    protected virtual void OnReleased()
    {
    }

    private T GetResultAndRelease<T>(short token, Func<Operation, int, T> project)
    {
        if (token != _core.Version)
        {
            // Let the core throw its "awaited twice / stale token" error without releasing anything.
            _core.GetResult(token);
        }

        try
        {
            int bytes = _core.GetResult(token);
            return project(this, bytes);
        }
        finally
        {
            Release();
        }
    }

    int IValueTaskSource<int>.GetResult(short token) =>
        GetResultAndRelease(token, static (_, bytes) => bytes);

    void IValueTaskSource.GetResult(short token) =>
        GetResultAndRelease(token, static (_, bytes) => bytes);

    ProactorSocket IValueTaskSource<ProactorSocket>.GetResult(short token) =>
        GetResultAndRelease(token, static (op, _) => op.TakeAcceptedSocket()!);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
