using System;
using System.Runtime.Versioning;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// One io_uring instance: the ring descriptor and the three shared regions (SQ ring, CQ ring, SQE
/// array), set up with io_uring_setup(2) and mmap(2) only. It has a single producer and a single
/// consumer: every method runs on the engine's ring thread.
/// </summary>
/// <remarks>
/// Memory ordering, as the kernel's io_uring.h documents it: we write an SQE, then publish the new
/// SQ tail with a release store, so the kernel never sees a tail ahead of the SQE contents; we read
/// the kernel's SQ head with an acquire load before reusing a slot it has consumed. For the CQ the
/// roles swap: an acquire load of the CQ tail makes the CQE contents visible, and a release store
/// of our CQ head tells the kernel the slot may be overwritten only after we have copied it.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class IoUringRing : IDisposable
{
    private readonly SafeFileDescriptorHandle _fd;
    private readonly SafeMappedRegionHandle _sqRing;
    private readonly SafeMappedRegionHandle? _cqRing; // null when the kernel maps both rings at once
    private readonly SafeMappedRegionHandle _sqeArray;

    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly Interop.IoUringSqe* _sqes;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly Interop.IoUringCqe* _cqes;

    private uint _sqLocalTail; // SQEs filled so far; published to the kernel by PublishTail
    private int _disposed;

    private IoUringRing(
        SafeFileDescriptorHandle fd,
        in Interop.IoUringParams p,
        SafeMappedRegionHandle sqRing,
        SafeMappedRegionHandle? cqRing,
        SafeMappedRegionHandle sqeArray)
    {
        _fd = fd;
        _sqRing = sqRing;
        _cqRing = cqRing;
        _sqeArray = sqeArray;
        Features = p.Features;
        SetupFlags = p.Flags;
        SqEntries = p.SqEntries;
        CqEntries = p.CqEntries;

        byte* sq = sqRing.Address;
        byte* cq = (cqRing ?? sqRing).Address;
        _sqHead = (uint*)(sq + p.SqOff.Head);
        _sqTail = (uint*)(sq + p.SqOff.Tail);
        _sqMask = *(uint*)(sq + p.SqOff.RingMask);
        _sqes = (Interop.IoUringSqe*)sqeArray.Address;
        _cqHead = (uint*)(cq + p.CqOff.Head);
        _cqTail = (uint*)(cq + p.CqOff.Tail);
        _cqMask = *(uint*)(cq + p.CqOff.RingMask);
        _cqes = (Interop.IoUringCqe*)(cq + p.CqOff.Cqes);

        // The SQ array maps ring positions to SQE indexes. An identity mapping, written once,
        // lets every later submission fill only the SQE and move the tail.
        uint* array = (uint*)(sq + p.SqOff.Array);
        for (uint i = 0; i < p.SqEntries; i++)
        {
            array[i] = i;
        }

        _sqLocalTail = *_sqTail;
    }

    /// <summary>The IORING_FEAT_* bits the kernel reported.</summary>
    public uint Features { get; }

    /// <summary>The IORING_SETUP_* flags the ring was created with.</summary>
    public uint SetupFlags { get; }

    public uint SqEntries { get; }

    public uint CqEntries { get; }

    public int Fd => _fd.Fd;

    /// <summary>
    /// Creates a ring. Returns 0, or the errno of the failing io_uring_setup/mmap (the ring then
    /// holds nothing).
    /// </summary>
    public static int TryCreate(uint sqEntries, uint cqEntries, uint flags, out IoUringRing? ring)
    {
        ring = null;
        Interop.IoUringParams p = default;
        p.Flags = flags | Interop.Sys.IORING_SETUP_CQSIZE | Interop.Sys.IORING_SETUP_CLAMP;
        p.CqEntries = cqEntries;
        int fd = Interop.Sys.IoUringSetup(sqEntries, &p);
        if (fd < 0)
        {
            return Interop.Errno.Last;
        }

        var handle = new SafeFileDescriptorHandle(fd);
        SafeMappedRegionHandle? sqRing = null;
        SafeMappedRegionHandle? cqRing = null;
        SafeMappedRegionHandle? sqes = null;
        nuint sqSize = p.SqOff.Array + (p.SqEntries * sizeof(uint));
        nuint cqSize = p.CqOff.Cqes + (p.CqEntries * (uint)sizeof(Interop.IoUringCqe));
        bool single = (p.Features & Interop.Sys.IORING_FEAT_SINGLE_MMAP) != 0;
        if (single)
        {
            sqSize = Math.Max(sqSize, cqSize);
        }

        int errno = SafeMappedRegionHandle.TryMap(fd, sqSize, Interop.Sys.IORING_OFF_SQ_RING, out sqRing);
        if (errno == 0 && !single)
        {
            errno = SafeMappedRegionHandle.TryMap(fd, cqSize, Interop.Sys.IORING_OFF_CQ_RING, out cqRing);
        }

        if (errno == 0)
        {
            errno = SafeMappedRegionHandle.TryMap(fd, p.SqEntries * (uint)sizeof(Interop.IoUringSqe), Interop.Sys.IORING_OFF_SQES, out sqes);
        }

        if (errno != 0)
        {
            sqes?.Dispose();
            cqRing?.Dispose();
            sqRing?.Dispose();
            handle.Dispose();
            return errno;
        }

        ring = new IoUringRing(handle, p, sqRing!, cqRing, sqes!);
        return 0;
    }

    /// <summary>For a ring created with IORING_SETUP_R_DISABLED: enables it from the calling
    /// thread, which becomes its single issuer. Returns 0 or the errno.</summary>
    public int Enable() =>
        Interop.Sys.IoUringRegister(_fd.Fd, Interop.Sys.IORING_REGISTER_ENABLE_RINGS, null, 0) < 0 ? Interop.Errno.Last : 0;

    /// <summary>The next free SQE, zeroed; null when the SQ ring is full (submit first).</summary>
    public Interop.IoUringSqe* TryGetSqe()
    {
        // Acquire: the kernel has finished reading every SQE before the head it published.
        uint head = Volatile.Read(ref *_sqHead);
        if (_sqLocalTail - head >= SqEntries)
        {
            return null;
        }

        Interop.IoUringSqe* sqe = &_sqes[_sqLocalTail & _sqMask];
        *sqe = default;
        _sqLocalTail++;
        return sqe;
    }

    /// <summary>Publishes the filled SQEs and returns how many the kernel has not consumed yet.</summary>
    public uint PublishTail()
    {
        // Release: the SQE contents written above become visible before the new tail.
        Volatile.Write(ref *_sqTail, _sqLocalTail);
        return _sqLocalTail - Volatile.Read(ref *_sqHead);
    }

    /// <summary>The kernel's SQ head: how many SQEs it has consumed in total (wrapping).</summary>
    public uint SqHead => Volatile.Read(ref *_sqHead);

    /// <summary>True when CQEs wait to be reaped.</summary>
    public bool HasCompletions => Volatile.Read(ref *_cqTail) != *_cqHead;

    /// <summary>Takes the next CQE, if any, and hands its slot back to the kernel at once (the
    /// handler that runs next may take long, e.g. an inline continuation).</summary>
    public bool TryTakeCqe(out Interop.IoUringCqe cqe)
    {
        uint head = *_cqHead; // only we write it
        // Acquire: the CQE contents are visible once the tail that covers them is.
        if (head == Volatile.Read(ref *_cqTail))
        {
            cqe = default;
            return false;
        }

        cqe = _cqes[head & _cqMask];
        // Release: our copy is complete before the kernel may reuse the slot.
        Volatile.Write(ref *_cqHead, head + 1);
        return true;
    }

    /// <summary>io_uring_enter(2). Returns the syscall's result, or -errno.</summary>
    public int Enter(uint toSubmit, uint minComplete, uint flags, void* arg, nuint argSize)
    {
        int rc = Interop.Sys.IoUringEnter(_fd.Fd, toSubmit, minComplete, flags, arg, argSize);
        return rc < 0 ? -Interop.Errno.Last : rc;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // The kernel keeps its own references to the ring memory; unmapping first and closing the
        // descriptor last is safe, and each region goes exactly once through its SafeHandle.
        _sqeArray.Dispose();
        _cqRing?.Dispose();
        _sqRing.Dispose();
        _fd.Dispose();
    }
}
