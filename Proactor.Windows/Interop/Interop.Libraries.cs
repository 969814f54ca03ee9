namespace Proactor.Windows;

internal static partial class Interop
{
    internal static class Libraries
    {
        internal const string Kernel32 = "kernel32.dll";
        internal const string Ws2_32 = "ws2_32.dll";
    }
}
