using Microsoft.Win32.SafeHandles;

namespace Proactor.Windows;

/// <summary>An I/O completion port, closed exactly once.</summary>
internal sealed class SafeCompletionPortHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeCompletionPortHandle(nint handle)
        : base(ownsHandle: true)
    {
        SetHandle(handle);
    }

    protected override bool ReleaseHandle() => Interop.Kernel32.CloseHandle(handle) != 0;
}
