using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// The native proactor over io_uring: operations become SQEs, CQEs are their completions. One ring
/// thread owns the ring (its single issuer): it fills SQEs for operations posted from any thread,
/// submits them in batches together with its wait (one io_uring_enter per loop iteration), reaps
/// CQEs and completes operations.
/// </summary>
/// <remarks>
/// Split by concern: setup and lifetime here; the checks of what the kernel allows in
/// <c>.Probe.cs</c>; posting, wake-up and SQE preparation in <c>.Submission.cs</c>; the loop, CQE
/// handling and shutdown in <c>.Completion.cs</c>.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe partial class IoUringEngine : ProactorEngine
{
    private readonly IoUringRing _ring;
    private readonly EventFdWaker _waker;
    private readonly SocketTable<IoUringSocket> _sockets = new();
    private readonly Lock _registrationLock = new();
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _started = new();
    private readonly bool _deferTaskRun;
    private Exception? _startFailure;
    private bool _registrationsClosed;
    private volatile bool _stopping;

    // Counters for tests, benchmarks and the syscalls-per-message figure. Written by the ring
    // thread (wake writes by any thread), read with Volatile/Interlocked from anywhere.
    private long _enterCalls;
    private long _sqesSubmitted;
    private long _cqesReaped;
    private long _directTries;
    private long _directCompletions;

    private IoUringEngine(EngineOptions options, IoUringRing ring, SafeFileDescriptorHandle wakeFd)
        : base(options)
    {
        _ring = ring;
        _waker = new EventFdWaker(wakeFd);
        TryBeforeSubmit = options.IoUringTryBeforeSubmit;
        MultishotZeroByteReceive = Environment.GetEnvironmentVariable("PROACTOR_IORING_ZERO_BYTE_MULTISHOT") switch
        {
            "0" => false,
            "1" => true,
            _ => options.Dispatch == CompletionDispatch.Inline,
        };
        _deferTaskRun = (ring.SetupFlags & Interop.Sys.IORING_SETUP_DEFER_TASKRUN) != 0;
        _scratch = (byte*)NativeMemory.AllocZeroed(ScratchSize);
        InitializeSlots();
        _thread = new Thread(Loop)
        {
            IsBackground = true,
            Name = options.ThreadName ?? "proactor-io_uring",
        };
        _thread.UnsafeStart();

        // The ring thread enables the ring (it becomes the single issuer) before the engine is
        // handed out, so a failure there is reported by the constructor, not lost on the thread.
        _started.Wait();
        _started.Dispose();
        if (_startFailure is { } failure)
        {
            _thread.Join();
            throw failure;
        }
    }

    public override BackendKind Backend => BackendKind.IoUring;

    public override string Name => "io_uring";

    /// <summary>io_uring_enter calls made by the ring thread.</summary>
    internal long EnterCalls => Volatile.Read(ref _enterCalls);

    /// <summary>SQEs the kernel consumed.</summary>
    internal long SqesSubmitted => Volatile.Read(ref _sqesSubmitted);

    /// <summary>CQEs reaped.</summary>
    internal long CqesReaped => Volatile.Read(ref _cqesReaped);

    /// <summary>eventfd writes that woke the ring thread for work posted from other threads.</summary>
    internal long WakeWrites => _waker.Signals;

    /// <summary>Receives and sends tried at once on the starting thread (<see cref="EngineOptions.IoUringTryBeforeSubmit"/>).</summary>
    internal long DirectTries => Interlocked.Read(ref _directTries);

    /// <summary>Of <see cref="DirectTries"/>, those that finished without an SQE.</summary>
    internal long DirectCompletions => Interlocked.Read(ref _directCompletions);

    /// <summary>Every syscall the engine made for I/O: enters, wake-up writes and direct tries
    /// (a send that writes in several pieces counts once).</summary>
    internal long Syscalls => EnterCalls + WakeWrites + DirectTries;

    internal bool TryBeforeSubmit { get; }

    /// <summary>True (the default, with <see cref="TryBeforeSubmit"/>) while a send started on the
    /// ring thread, by an inline continuation, is tried with one send(2) before it becomes an SQE;
    /// tests and benchmarks turn it off (<c>PROACTOR_IORING_DIRECT_SEND=0</c> for a process) to
    /// compare with the SQE path.</summary>
    internal bool DirectSendOnRingThread { get; set; } =
        Environment.GetEnvironmentVariable("PROACTOR_IORING_DIRECT_SEND") != "0";

    /// <summary>True (the default) while a direct receive of fewer bytes than asked for clears
    /// <see cref="IoUringSocket.ReceiveMayBeReady"/>; tests turn it off, and
    /// <c>PROACTOR_IORING_SHORT_RECEIVE_EMPTIES=0</c> for a process (to compare).</summary>
    internal bool ShortReceiveEmpties { get; set; } =
        Environment.GetEnvironmentVariable("PROACTOR_IORING_SHORT_RECEIVE_EMPTIES") != "0";

    internal void CountDirectTry(bool finished)
    {
        Interlocked.Increment(ref _directTries);
        if (finished)
        {
            Interlocked.Increment(ref _directCompletions);
        }
    }

    /// <summary>Requests the kernel holds for this engine (operations and multishot accepts whose
    /// final CQE has not been reaped), as last seen by the ring thread.</summary>
    internal int InFlightRequests => Volatile.Read(ref _liveSlots);

    /// <summary>The IORING_FEAT_* bits of the kernel.</summary>
    internal uint Features => _ring.Features;

    /// <summary>The IORING_SETUP_* flags the ring runs with.</summary>
    internal uint SetupFlags => _ring.SetupFlags;

    /// <summary>True while listeners use one multishot accept instead of one SQE per accept; tests
    /// turn it off to run the one-SQE-per-accept path. A listener whose multishot accept the kernel
    /// refuses (before Linux 5.19) turns to one SQE per accept by itself, without touching this
    /// switch or other listeners.</summary>
    internal bool MultishotAccept
    {
        get => Volatile.Read(ref _multishotAccept);
        set => Volatile.Write(ref _multishotAccept, value);
    }

    /// <summary>Registered sockets whose descriptor is not released yet, for leak checks.</summary>
    internal int RegisteredSocketCount => _sockets.Count;

    internal override EngineSocket Register(ProactorSocket owner, Socket socket) =>
        Add(new IoUringSocket(this, socket));

    internal override EngineSocket RegisterAccepted(ProactorSocket owner, SafeHandle descriptor, AddressFamily addressFamily) =>
        Add(new IoUringSocket(this, descriptor, addressFamily));

    private IoUringSocket Add(IoUringSocket engineSocket)
    {
        lock (_registrationLock)
        {
            if (_registrationsClosed)
            {
                engineSocket.ReleaseDescriptor(); // closes the descriptor (a second dispose by the caller is harmless)
                ThrowDisposed();
            }

            engineSocket.Key = _sockets.Add(engineSocket);
        }

        return engineSocket;
    }

    /// <summary>Ring thread: forgets a socket whose descriptor was released.</summary>
    private void Unregister(IoUringSocket socket)
    {
        lock (_registrationLock)
        {
            _sockets.Remove(socket.Key);
        }
    }

    internal override void WakeLoop()
    {
        if (!IsEngineThread)
        {
            _waker.Wake();
        }
    }

    protected override void Dispose(bool disposing)
    {
        _stopping = true;
        _waker.Wake();
        JoinEngineThread(_thread);
    }
}
