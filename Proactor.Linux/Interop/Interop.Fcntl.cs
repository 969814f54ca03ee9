using System.Runtime.InteropServices;

namespace Proactor.Linux;

internal static unsafe partial class Interop
{
    internal static partial class Sys
    {
        internal const int F_GETFL = 3;
        internal const int F_SETFL = 4;
        internal const int F_DUPFD_CLOEXEC = 1030;
        internal const int O_NONBLOCK = 0x800;

        // fcntl is variadic; its third argument is an int for F_GETFL/F_SETFL, passed in the
        // same register as a fixed int argument on the Linux ABIs .NET runs on.
        [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
        internal static partial int Fcntl(int fd, int cmd, int arg);
    }
}
