using System.Runtime.InteropServices;

namespace Proactor.Linux;

internal static unsafe partial class Interop
{
    internal static partial class Sys
    {
        internal const int PROT_READ = 0x1;
        internal const int PROT_WRITE = 0x2;
        internal const int MAP_SHARED = 0x01;
        internal const int MAP_POPULATE = 0x8000;

        /// <summary>mmap's failure value, (void*)-1.</summary>
        internal static readonly nint MAP_FAILED = -1;

        [LibraryImport(Libraries.Libc, EntryPoint = "mmap", SetLastError = true)]
        internal static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

        [LibraryImport(Libraries.Libc, EntryPoint = "munmap", SetLastError = true)]
        internal static partial int Munmap(nint addr, nuint length);
    }
}
