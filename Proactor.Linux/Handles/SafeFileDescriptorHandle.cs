using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>A Linux file descriptor (epoll instance, eventfd, io_uring ring, an accepted connection)
/// closed exactly once.</summary>
/// <remarks>An accepted connection runs on one of these rather than a runtime SafeSocketHandle: 32
/// bytes instead of about 80, and a plain close(2), where disposing a SafeSocketHandle that no
/// Socket closed would reset the connection (it sets a zero linger first).</remarks>
[SupportedOSPlatform("linux")]
internal sealed class SafeFileDescriptorHandle : SafeHandle
{
    public SafeFileDescriptorHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle == -1;

    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Interop.Sys.Close((int)handle) == 0;

    /// <summary>Wraps the result of a descriptor-creating syscall, or throws with its errno.</summary>
    public static SafeFileDescriptorHandle FromResult(int fd, string call)
    {
        if (fd < 0)
        {
            int errno = Interop.Errno.Last;
            throw new InvalidOperationException($"{call} failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).");
        }

        return new SafeFileDescriptorHandle(fd);
    }
}
