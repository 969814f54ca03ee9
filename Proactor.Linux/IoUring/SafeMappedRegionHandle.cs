using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>One mmap(2) region shared with the kernel (an io_uring ring or its SQE array),
/// unmapped exactly once, by the SafeHandle's release.</summary>
[SupportedOSPlatform("linux")]
internal sealed class SafeMappedRegionHandle : SafeHandle
{
    private readonly nuint _length;

    private SafeMappedRegionHandle(nint address, nuint length)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        _length = length;
        SetHandle(address);
    }

    public override bool IsInvalid => handle == -1 || handle == 0;

    /// <summary>The first byte of the region (valid while the handle is not released).</summary>
    public unsafe byte* Address => (byte*)handle;

    protected override bool ReleaseHandle() => Interop.Sys.Munmap(handle, _length) == 0;

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> at <paramref name="offset"/>,
    /// shared and populated. Returns 0 or the errno of the failure.</summary>
    public static int TryMap(int fd, nuint length, long offset, out SafeMappedRegionHandle? region)
    {
        // MAP_POPULATE: fault the pages in now, so the first submissions do not take page faults.
        nint address = Interop.Sys.Mmap(0, length, Interop.Sys.PROT_READ | Interop.Sys.PROT_WRITE,
            Interop.Sys.MAP_SHARED | Interop.Sys.MAP_POPULATE, fd, offset);
        if (address == Interop.Sys.MAP_FAILED)
        {
            region = null;
            return Interop.Errno.Last;
        }

        region = new SafeMappedRegionHandle(address, length);
        return 0;
    }
}
