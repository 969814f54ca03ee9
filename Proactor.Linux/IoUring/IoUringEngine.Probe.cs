using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.Versioning;

namespace Proactor.Linux;

internal sealed partial class IoUringEngine
{
    /// <summary>The features the engine relies on, each with the first kernel that has it.</summary>
    private static readonly (uint Bit, string Name, string Why)[] s_requiredFeatures =
    {
        (Interop.Sys.IORING_FEAT_NODROP, "IORING_FEAT_NODROP (Linux 5.5)", "a full completion ring must never drop a completion"),
        (Interop.Sys.IORING_FEAT_SUBMIT_STABLE, "IORING_FEAT_SUBMIT_STABLE (Linux 5.5)", "SQE data must be consumed at submission"),
        (Interop.Sys.IORING_FEAT_FAST_POLL, "IORING_FEAT_FAST_POLL (Linux 5.7)", "socket operations must wait by internal poll, not by a worker thread each"),
        (Interop.Sys.IORING_FEAT_EXT_ARG, "IORING_FEAT_EXT_ARG (Linux 5.11)", "the loop's wait must carry the timer deadline"),
    };

    /// <summary>
    /// Creates an io_uring engine, or says why io_uring cannot run here: the kernel lacks it
    /// (ENOSYS), a seccomp filter or the io_uring_disabled sysctl forbids it (EPERM), the
    /// locked-memory limit is too low (ENOMEM), or a feature the engine relies on is missing.
    /// </summary>
    /// <param name="options">The engine's options.</param>
    /// <param name="reason">When null is returned: a sentence saying why.</param>
    /// <param name="code">When null is returned: a short, stable tag of the cause for metrics
    /// (<c>ENOSYS</c>, <c>EPERM</c>, <c>disabled</c>, <c>ENOMEM</c>, <c>feature</c>, ...).</param>
    public static IoUringEngine? TryCreate(EngineOptions options, out string? reason, out string? code)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.IoUringSimulatedSetupError != 0)
        {
            (code, reason) = DescribeSetupError(options.IoUringSimulatedSetupError);
            reason += " (simulated by EngineOptions.IoUringSimulatedSetupError)";
            return null;
        }

        uint sqEntries = RoundUpToPowerOfTwo((uint)Math.Clamp(options.MaxEventsPerWait, 256, 4096));
        uint cqEntries = sqEntries * 4;

        // Newest first: a kernel rejects setup flags it does not know with EINVAL, so each older
        // set is tried in turn. SINGLE_ISSUER + DEFER_TASKRUN (6.1) run completion work only when
        // the ring thread enters the kernel to wait, i.e. batched; COOP_TASKRUN (5.19) at least
        // spares the ring thread interrupts. R_DISABLED lets the ring thread, not this one,
        // become the single issuer.
        uint[] flagSets =
        {
            Interop.Sys.IORING_SETUP_SINGLE_ISSUER | Interop.Sys.IORING_SETUP_DEFER_TASKRUN |
                Interop.Sys.IORING_SETUP_R_DISABLED | Interop.Sys.IORING_SETUP_SUBMIT_ALL,
            Interop.Sys.IORING_SETUP_COOP_TASKRUN | Interop.Sys.IORING_SETUP_SUBMIT_ALL,
            0,
        };

        IoUringRing? ring = null;
        int errno = 0;
        foreach (uint flags in flagSets)
        {
            errno = IoUringRing.TryCreate(sqEntries, cqEntries, flags, out ring);
            if (errno != Interop.Errno.EINVAL)
            {
                break;
            }
        }

        if (ring is null)
        {
            (code, reason) = DescribeSetupError(errno);
            return null;
        }

        if (MissingFeatures(ring.Features) is { } missing)
        {
            ring.Dispose();
            code = "feature";
            reason = missing;
            return null;
        }

        // Blocking on purpose: io_uring reads of an O_NONBLOCK file fail with EAGAIN instead of
        // waiting, and the wake-up read must wait inside the ring.
        int wakeFd = Interop.Sys.EventFd(0, Interop.Sys.EFD_CLOEXEC);
        if (wakeFd < 0)
        {
            errno = Interop.Errno.Last;
            ring.Dispose();
            code = "eventfd";
            reason = $"eventfd failed with errno {errno}.";
            return null;
        }

        var wakeHandle = new SafeFileDescriptorHandle(wakeFd);
        try
        {
            reason = null;
            code = null;
            return new IoUringEngine(options, ring, wakeHandle);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            ring.Dispose();
            wakeHandle.Dispose();
            code = "enable";
            reason = e.Message;
            return null;
        }
    }

    /// <summary>For <see cref="BackendKind.IoUring"/>: the engine, or a <see cref="NotSupportedException"/>
    /// whose message says why io_uring cannot run here.</summary>
    public static IoUringEngine CreateOrThrow(EngineOptions options) =>
        TryCreate(options, out string? reason, out _) ??
        throw new NotSupportedException(
            $"The io_uring backend cannot run here: {reason} Use BackendKind.Default to fall back to epoll automatically, or BackendKind.Epoll.");

    /// <summary>
    /// For <see cref="BackendKind.Default"/> on Linux: io_uring where the kernel allows it, else the
    /// engine <paramref name="createFallback"/> makes (edge-triggered epoll). A fallback is never
    /// silent: the reason is kept in <see cref="ProactorEngine.FallbackReason"/>, counted in the
    /// metric <c>proactor.backend.fallbacks</c> (tagged with a short cause) and reported once
    /// through <see cref="EngineOptions.Warning"/>.
    /// </summary>
    public static ProactorEngine CreateOrFallBack(EngineOptions options, Func<EngineOptions, ProactorEngine> createFallback)
    {
        if (TryCreate(options, out string? reason, out string? code) is { } engine)
        {
            return engine;
        }

        ProactorEngine fallback = createFallback(options);
        fallback.FallbackReason = reason;
        ProactorMetrics.RecordFallback(fallback, from: "io_uring", reason: code);
        fallback.Warn("backend-fallback", $"Proactor: io_uring is unavailable, so the engine runs on {fallback.Name}: {reason}");
        return fallback;
    }

    /// <summary>Names the features the engine needs that <paramref name="features"/> lacks, as a
    /// sentence; null when none is missing.</summary>
    internal static string? MissingFeatures(uint features)
    {
        string? missing = null;
        foreach ((uint bit, string name, string why) in s_requiredFeatures)
        {
            if ((features & bit) == 0)
            {
                missing = (missing is null ? "" : missing + "; ") + $"{name}: {why}";
            }
        }

        return missing is null ? null : $"the kernel's io_uring lacks features the engine relies on: {missing}.";
    }

    /// <summary>Why io_uring_setup (or mapping its rings) failed with <paramref name="errno"/>.</summary>
    internal static (string Code, string Reason) DescribeSetupError(int errno)
    {
        switch (errno)
        {
            case Interop.Errno.ENOSYS:
                return ("ENOSYS", "io_uring_setup is not implemented by this kernel (ENOSYS): it predates Linux 5.1 or was built without CONFIG_IO_URING.");
            case Interop.Errno.EPERM:
                return DescribePermissionError();
            case Interop.Errno.ENOMEM:
                return ("ENOMEM", "io_uring_setup could not allocate its rings (ENOMEM): the locked-memory limit (RLIMIT_MEMLOCK, 'ulimit -l') is too low; kernels before 5.12 charge the rings to it.");
            case Interop.Errno.EMFILE:
            case Interop.Errno.ENFILE:
                return ("EMFILE", $"io_uring_setup found no free descriptor (errno {errno}): the process or system limit of open files is reached.");
            case Interop.Errno.EINVAL:
                return ("EINVAL", "io_uring_setup rejected every parameter set the engine tried (EINVAL): the kernel's io_uring is too old.");
            default:
                return ($"errno-{errno}", $"io_uring_setup failed with errno {errno} ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}).");
        }
    }

    private static (string Code, string Reason) DescribePermissionError()
    {
        // The sysctl (Linux 6.6) explains EPERM when it is set; otherwise the usual cause is a
        // seccomp filter, as container runtimes install by default.
        string? disabled = null;
        try
        {
            disabled = File.ReadAllText("/proc/sys/kernel/io_uring_disabled").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An older kernel without the sysctl.
        }

        return disabled switch
        {
            "2" => ("disabled", "io_uring is disabled for every process by the sysctl kernel.io_uring_disabled=2 (EPERM)."),
            "1" => ("disabled", "io_uring is limited by the sysctl kernel.io_uring_disabled=1 to members of kernel.io_uring_group and CAP_SYS_ADMIN, and this process is neither (EPERM)."),
            _ => ("EPERM", "io_uring_setup was denied (EPERM), typically by a seccomp filter: container runtimes such as Docker and Podman block io_uring by default."),
        };
    }

    private static uint RoundUpToPowerOfTwo(uint value) => System.Numerics.BitOperations.RoundUpToPowerOf2(value);
}
