using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;

namespace Proactor.Windows;

/// <summary>
/// The native proactor on Windows: sockets are associated with one I/O completion port, operations
/// are overlapped calls (WSARecv, WSASend, AcceptEx, ConnectEx), and one completion thread drains
/// the port in batches with GetQueuedCompletionStatusEx and completes the operations by the
/// engine's dispatch policy. The wait lasts until the earliest engine timer.
/// </summary>
/// <remarks>
/// One completion thread, not one per core: per socket and direction, completions must be delivered
/// in submission order, and with inline dispatch continuations run on that thread.
/// </remarks>
internal sealed unsafe partial class IocpEngine : ProactorEngine
{
    /// <summary>The completion key of <see cref="WakeLoop"/> packets; sockets are associated with key 0.</summary>
    internal const nuint WakeKey = 1;

    /// <summary>The completion key of <see cref="PostAborted"/> packets: an operation that ended
    /// before the OS ever had it, handed to the completion thread to be completed there.</summary>
    private const nuint AbortKey = 2;

    private static readonly IocpTestHooks s_noHooks = new();

    private readonly SafeCompletionPortHandle _port;
    private readonly nint _portHandle;
    private readonly Thread _thread;
    private readonly bool _losePacketsOfClosedSockets;
    private readonly Lock _registrationLock = new();
    private readonly HashSet<IocpSocket> _sockets = new();

    /// <summary>Closed sockets whose calls have not all returned yet (under <see cref="_registrationLock"/>):
    /// Shutdown must still find them if the OS never returns a call (see <see cref="IocpSocket.Abandon"/>).</summary>
    private readonly HashSet<IocpSocket> _closing = new();

    /// <summary>Orders <see cref="PostAborted"/> against the port's close: a packet posted after the
    /// completion thread's last look at the port would be lost with it.</summary>
    private readonly Lock _postLock = new();
    private bool _postsClosed;
    private bool _registrationsClosed;
    private volatile bool _stopping;
    private readonly CompletionPortWaker _waker;
    private int _pendingOperations;

    public IocpEngine(EngineOptions options)
        : this(options, null)
    {
    }

    internal IocpEngine(EngineOptions options, IocpTestHooks? hooks)
        : base(options)
    {
        Hooks = hooks ?? s_noHooks;
        _losePacketsOfClosedSockets = Hooks.LosePacketsOfClosedSockets;
        _portHandle = Interop.Kernel32.CreateIoCompletionPort(-1, 0, 0, 1);
        if (_portHandle == 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "CreateIoCompletionPort failed");
        }

        _port = new SafeCompletionPortHandle(_portHandle);
        _waker = new CompletionPortWaker(_port);
        SkipCompletionPortOnSuccessRefusal = Hooks.ForceNoSkipCompletionPortOnSuccess
            ? "forced off by a test hook; every operation completes through the port."
            : ProbeSkipCompletionPortOnSuccess();
        Name = SkipsCompletionPortOnSuccess ? "iocp" : "iocp-noskip";
        _thread = new Thread(CompletionLoop)
        {
            IsBackground = true,
            Name = options.ThreadName ?? $"proactor-{Name}",
        };
        _thread.UnsafeStart();
    }

    public override BackendKind Backend => BackendKind.Iocp;

    public override string Name { get; }

    /// <summary>
    /// True when the platform accepted FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: an operation that
    /// succeeds at once completes synchronously, without a trip through the port. False when it was
    /// refused (see <see cref="SkipCompletionPortOnSuccessRefusal"/>): every operation then
    /// completes through the port.
    /// </summary>
    public bool SkipsCompletionPortOnSuccess => SkipCompletionPortOnSuccessRefusal is null;

    /// <summary>Why FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is not used, or null when it is.</summary>
    public string? SkipCompletionPortOnSuccessRefusal { get; }

    /// <summary>Test-only switches (none set in production).</summary>
    internal IocpTestHooks Hooks { get; }

    /// <summary>Registered sockets, for leak checks.</summary>
    internal int RegisteredSocketCount
    {
        get
        {
            lock (_registrationLock)
            {
                return _sockets.Count;
            }
        }
    }

    /// <summary>Overlapped calls whose packet has not been processed yet.</summary>
    internal int PendingOperations => Volatile.Read(ref _pendingOperations);

    internal void AddPending() => Interlocked.Increment(ref _pendingOperations);

    internal void RemovePending() => Interlocked.Decrement(ref _pendingOperations);

    internal override EngineSocket Register(ProactorSocket owner, Socket socket)
    {
        nint handle = socket.SafeHandle.DangerousGetHandle();
        lock (_registrationLock)
        {
            if (_registrationsClosed)
            {
                ThrowDisposed();
            }

            // A handle can be associated with one port, once; .NET never associates a socket with
            // its own port unless its async methods are used, which Proactor never does.
            if (Interop.Kernel32.CreateIoCompletionPort(handle, _portHandle, 0, 0) == 0)
            {
                int error = Marshal.GetLastPInvokeError();
                throw new SocketException(error, $"Associating the socket with the completion port failed (error {error}).");
            }

            var engineSocket = new IocpSocket(this, socket, SkipsCompletionPortOnSuccess && TrySkipCompletionPortOnSuccess(handle, out _));
            _sockets.Add(engineSocket);
            return engineSocket;
        }
    }

    /// <summary>Close began: no longer registered, but tracked until its last call returned.</summary>
    internal void Unregister(IocpSocket socket)
    {
        lock (_registrationLock)
        {
            // After Shutdown's snapshot the socket is already in it (or was never registered).
            if (_sockets.Remove(socket) && !_registrationsClosed)
            {
                _closing.Add(socket);
            }
        }
    }

    /// <summary>A closed socket has no call left in the OS's hands.</summary>
    internal void Retire(IocpSocket socket)
    {
        lock (_registrationLock)
        {
            _closing.Remove(socket);
        }
    }

    /// <summary>
    /// Hands <paramref name="op"/>, which the OS never had (it waited behind the call in flight)
    /// and whose result is already set, to the completion thread, which completes it. A cancelling
    /// or timing-out thread never runs a continuation itself; and a timer callback that cancels
    /// returns before the continuation can reuse the operation and re-arm its deadline.
    /// </summary>
    internal void PostAborted(IocpOperation op)
    {
        AddPending();
        op.Root();
        bool posted = false;
        lock (_postLock)
        {
            // Once closed, the completion thread has taken its last packet from the port.
            if (!_postsClosed)
            {
                posted = Interop.Kernel32.PostQueuedCompletionStatus(_portHandle, 0, AbortKey, op.Overlapped) != 0;
            }
        }

        if (!posted)
        {
            // No completion thread left to deliver it; completing here is better than never.
            op.Unroot();
            RemovePending();
            op.Complete();
        }
    }

    internal override void WakeLoop() => _waker.Wake();

    /// <summary>
    /// Asks for FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE on a throwaway
    /// socket, so the engine knows its mode (and name) before the first registration. Returns null
    /// when accepted, otherwise why not.
    /// </summary>
    private static string? ProbeSkipCompletionPortOnSuccess()
    {
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            return TrySkipCompletionPortOnSuccess(probe.SafeHandle.DangerousGetHandle(), out int error)
                ? null
                : $"SetFileCompletionNotificationModes(FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) was refused with error {error}; every operation completes through the port.";
        }
        catch (SocketException e)
        {
            return $"no socket to probe SetFileCompletionNotificationModes with ({e.SocketErrorCode}); every operation completes through the port.";
        }
    }

    private static bool TrySkipCompletionPortOnSuccess(nint handle, out int error)
    {
        // With this mode an overlapped call that succeeds at once queues no packet, so it must be
        // completed by the caller (Start returns false); without it, the packet always comes.
        // (System.Net.Sockets uses the same mode; the old non-IFS LSP caveat does not apply to
        // current Windows.)
        if (Interop.Kernel32.SetFileCompletionNotificationModes(handle,
                Interop.Kernel32.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | Interop.Kernel32.FILE_SKIP_SET_EVENT_ON_HANDLE) != 0)
        {
            error = 0;
            return true;
        }

        error = Marshal.GetLastPInvokeError();
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        _stopping = true;
        WakeLoop();
        if (!IsEngineThread && !_thread.Join(Hooks.JoinTimeout))
        {
            // A continuation that never returns holds the completion thread (inline dispatch), or
            // the drain of aborted calls is slow: report it rather than hang the caller for good.
            // The thread still closes every socket and the port when it gets there.
            Warn("dispose",
                $"Proactor: the {Name} completion thread did not stop within {Hooks.JoinTimeout.TotalSeconds:F0} s of Dispose " +
                "(an inline continuation that blocks holds it); Dispose returns without it, and its sockets close when it stops.");
        }
    }
}
