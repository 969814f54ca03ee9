using System.Runtime.InteropServices;

namespace Proactor.Linux;

internal static unsafe partial class Interop
{
    internal static partial class Sys
    {
        internal const int EFD_NONBLOCK = 0x800;
        internal const int EFD_CLOEXEC = 0x80000;

        [LibraryImport(Libraries.Libc, EntryPoint = "eventfd", SetLastError = true)]
        internal static partial int EventFd(uint initval, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)]
        internal static partial nint Read(int fd, void* buf, nuint count);

        [LibraryImport(Libraries.Libc, EntryPoint = "write", SetLastError = true)]
        internal static partial nint Write(int fd, void* buf, nuint count);

        [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
        internal static partial int Close(int fd);
    }
}
