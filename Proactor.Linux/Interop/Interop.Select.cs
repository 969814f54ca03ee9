using System.Runtime.InteropServices;

namespace Proactor.Linux;

internal static unsafe partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>glibc's fixed fd_set capacity: select(2) cannot watch a descriptor at or above it.</summary>
        internal const int FD_SETSIZE = 1024;

        /// <param name="nfds">The highest descriptor in any set, plus one.</param>
        /// <param name="readfds">Descriptors to watch for reading; on return, those readable.</param>
        /// <param name="writefds">Descriptors to watch for writing; on return, those writable.</param>
        /// <param name="exceptfds">Descriptors to watch for exceptional conditions (out-of-band data).</param>
        /// <param name="timeout">Null to wait without limit. Linux writes the time left into it.</param>
        [LibraryImport(Libraries.Libc, EntryPoint = "select", SetLastError = true)]
        internal static partial int Select(int nfds, FdSet* readfds, FdSet* writefds, FdSet* exceptfds, TimeVal* timeout);
    }

    /// <summary>
    /// fd_set: <see cref="Sys.FD_SETSIZE"/> bits, descriptor <c>n</c> at bit <c>n % 64</c> of word
    /// <c>n / 64</c> (glibc's unsigned long words on LP64; on a little-endian machine the same bytes
    /// as 32-bit words, so the layout holds there too). Callers check the range: the set has no room
    /// beyond its 128 bytes, and writing past it would corrupt whatever lies next.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct FdSet
    {
        private const int Words = Sys.FD_SETSIZE / 64;

        private fixed ulong _bits[Words];

        public void Add(int fd) => _bits[fd >> 6] |= 1UL << (fd & 63);

        public readonly bool Contains(int fd) => (_bits[fd >> 6] & (1UL << (fd & 63))) != 0;

        public void Clear()
        {
            for (int i = 0; i < Words; i++)
            {
                _bits[i] = 0;
            }
        }
    }

    /// <summary>struct timeval on LP64 Linux: time_t and suseconds_t are both long.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeVal
    {
        public nint Seconds;
        public nint Microseconds;
    }
}
