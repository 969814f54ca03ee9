using System;
using System.Runtime.Versioning;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// The wake-up of a Linux engine's loop, beside its demultiplexer (as mio's <c>Waker</c> is beside
/// its <c>Selector</c>): it owns an eventfd, and nobody else writes to it.
/// </summary>
/// <remarks>
/// A flag keeps it to one write per wake-up: a waker that finds the flag set knows a write is
/// coming or done and not yet drained. The loop must drain in this order: <em>read the eventfd,
/// then clear the flag, then look at the work it was woken for</em>. Cleared first, a wake landing
/// between the clear and the read would be swallowed by the read while the flag stayed set, and
/// no later wake would ever write again (the loop would sleep through timers and Dispose).
/// Writes hold a reference on the handle, so a wake racing the engine's shutdown can never write
/// into a closed descriptor number that something else has reused.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class EventFdWaker : IDisposable
{
    private readonly SafeFileDescriptorHandle _eventFd;
    private int _pending;
    private long _writes;

    public EventFdWaker()
    {
        _eventFd = SafeFileDescriptorHandle.FromResult(
            Interop.Sys.EventFd(0, Interop.Sys.EFD_NONBLOCK | Interop.Sys.EFD_CLOEXEC), "eventfd");
    }

    /// <summary>The descriptor, for registering with the demultiplexer only.</summary>
    public int Fd => _eventFd.Fd;

    /// <summary>eventfd writes so far (each wakes the loop once).</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>Makes the loop's current or next wait return. Any thread; never blocks.</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _pending, 1) != 0)
        {
            return;
        }

        bool added = false;
        try
        {
            _eventFd.DangerousAddRef(ref added);
            ulong one = 1;
            Interop.Sys.Write(_eventFd.Fd, &one, sizeof(ulong));
            Interlocked.Increment(ref _writes);
        }
        catch (ObjectDisposedException)
        {
            // The engine is gone: there is no loop left to wake.
        }
        finally
        {
            if (added)
            {
                _eventFd.DangerousRelease();
            }
        }
    }

    /// <summary>Loop thread, when the demultiplexer reported the eventfd readable: read, then clear
    /// the flag (with a full fence, so the work queues the caller reads next are read after it).</summary>
    public void Drain()
    {
        ulong value;
        Interop.Sys.Read(_eventFd.Fd, &value, sizeof(ulong));
        Interlocked.Exchange(ref _pending, 0);
    }

    public void Dispose() => _eventFd.Dispose();
}
