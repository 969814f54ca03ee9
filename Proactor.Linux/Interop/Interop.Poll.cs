using System.Runtime.InteropServices;

namespace Proactor.Linux;

internal static unsafe partial class Interop
{
    internal static partial class Sys
    {
        internal const short POLLIN = 0x001;
        internal const short POLLPRI = 0x002;
        internal const short POLLOUT = 0x004;
        internal const short POLLERR = 0x008;
        internal const short POLLHUP = 0x010;
        internal const short POLLNVAL = 0x020;
        internal const short POLLRDHUP = 0x2000;

        /// <param name="fds">An array of <paramref name="nfds"/> struct pollfd.</param>
        /// <param name="nfds">How many entries <paramref name="fds"/> holds.</param>
        /// <param name="timeout">Milliseconds to wait; -1 waits forever, 0 not at all.</param>
        [LibraryImport(Libraries.Libc, EntryPoint = "poll", SetLastError = true)]
        internal static partial int Poll(PollFd* fds, nuint nfds, int timeout);
    }

    /// <summary>struct pollfd: the same 8-byte layout on every Linux architecture.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }
}
