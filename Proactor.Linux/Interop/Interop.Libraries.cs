namespace Proactor.Linux;

internal static partial class Interop
{
    internal static class Libraries
    {
        // glibc's soname; the unversioned "libc.so" is a linker script on glibc systems.
        internal const string Libc = "libc.so.6";
    }
}
