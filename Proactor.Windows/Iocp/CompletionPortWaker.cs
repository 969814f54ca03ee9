using System;
using System.Runtime.Versioning;

namespace Proactor.Windows;

/// <summary>
/// The <see cref="LoopWaker"/> of the IOCP engine: its signal is a packet under
/// <see cref="IocpEngine.WakeKey"/>, posted under a reference on the port's handle so that a wake
/// racing the engine's shutdown never posts to a closed handle value. The completion thread
/// drops the packet when it dequeues it; the packet carries no work, only the end of a wait.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed unsafe class CompletionPortWaker : LoopWaker
{
    private readonly SafeCompletionPortHandle _port;

    public CompletionPortWaker(SafeCompletionPortHandle port) => _port = port;

    protected override bool Signal()
    {
        bool added = false;
        try
        {
            _port.DangerousAddRef(ref added);
            return Interop.Kernel32.PostQueuedCompletionStatus(_port.DangerousGetHandle(), 0, IocpEngine.WakeKey, null) != 0;
        }
        catch (ObjectDisposedException)
        {
            return false; // the engine is gone: there is no loop left to wake
        }
        finally
        {
            if (added)
            {
                _port.DangerousRelease();
            }
        }
    }

    /// <summary>The port belongs to the engine, which closes it.</summary>
    public override void Dispose()
    {
    }
}
