using System;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// The <see cref="LoopWaker"/> of the Linux engines: an eventfd, written under a reference on its
/// handle so that a wake racing the engine's shutdown can never write into a closed descriptor
/// number that something else has reused. The emulated engines watch it with their
/// demultiplexer and <see cref="Drain"/> it when it is reported; the io_uring engine keeps a read
/// of it in the ring.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class EventFdWaker : LoopWaker
{
    private readonly SafeFileDescriptorHandle _eventFd;

    /// <summary>A new non-blocking eventfd (for a readiness demultiplexer).</summary>
    public EventFdWaker()
        : this(SafeFileDescriptorHandle.FromResult(
            Interop.Sys.EventFd(0, Interop.Sys.EFD_NONBLOCK | Interop.Sys.EFD_CLOEXEC), "eventfd"))
    {
    }

    /// <summary>Takes ownership of an eventfd made by the caller (io_uring wants a blocking one).</summary>
    public EventFdWaker(SafeFileDescriptorHandle eventFd) => _eventFd = eventFd;

    /// <summary>The descriptor, for registering with the demultiplexer or the ring only.</summary>
    public int Fd => _eventFd.Fd;

    /// <summary>Loop thread, when the demultiplexer reported the eventfd readable: resets it, so
    /// the next wait blocks.</summary>
    public void Drain()
    {
        ulong value;
        Interop.Sys.Read(_eventFd.Fd, &value, sizeof(ulong));
    }

    protected override bool Signal()
    {
        bool added = false;
        try
        {
            _eventFd.DangerousAddRef(ref added);
            ulong one = 1;
            Interop.Sys.Write(_eventFd.Fd, &one, sizeof(ulong));
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false; // the engine is gone: there is no loop left to wake
        }
        finally
        {
            if (added)
            {
                _eventFd.DangerousRelease();
            }
        }
    }

    public override void Dispose() => _eventFd.Dispose();
}
