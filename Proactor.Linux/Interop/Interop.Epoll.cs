using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Proactor.Linux;

internal static unsafe partial class Interop
{
    internal static partial class Sys
    {
        internal const int EPOLL_CLOEXEC = 0x80000;
        internal const int EPOLL_CTL_ADD = 1;
        internal const int EPOLL_CTL_DEL = 2;
        internal const int EPOLL_CTL_MOD = 3;

        internal const uint EPOLLIN = 0x001;
        internal const uint EPOLLPRI = 0x002;
        internal const uint EPOLLOUT = 0x004;
        internal const uint EPOLLERR = 0x008;
        internal const uint EPOLLHUP = 0x010;
        internal const uint EPOLLRDHUP = 0x2000;
        internal const uint EPOLLET = 1u << 31;

        [LibraryImport(Libraries.Libc, EntryPoint = "epoll_create1", SetLastError = true)]
        internal static partial int EpollCreate1(int flags);

        /// <param name="epfd">The epoll instance.</param>
        /// <param name="op">EPOLL_CTL_ADD, EPOLL_CTL_MOD or EPOLL_CTL_DEL.</param>
        /// <param name="fd">The descriptor to register, change or remove.</param>
        /// <param name="ev">A struct epoll_event (see <see cref="EpollEvent"/>).</param>
        [LibraryImport(Libraries.Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
        internal static partial int EpollCtl(int epfd, int op, int fd, EpollEvent* ev);

        [LibraryImport(Libraries.Libc, EntryPoint = "epoll_wait", SetLastError = true)]
        internal static partial int EpollWait(int epfd, EpollEvent* events, int maxevents, int timeout);
    }

    /// <summary>
    /// struct epoll_event. The kernel declares it packed on x86-64 (12 bytes, data at offset 4) and
    /// naturally aligned elsewhere (16 bytes, data at offset 8); <see cref="EpollEvent.Size"/> and
    /// the accessors follow the running architecture, so arrays of it are walked by byte stride.
    /// </summary>
    [StructLayout(LayoutKind.Sequential, Size = 16)]
    internal struct EpollEvent
    {
        private uint _events;
        private uint _pad;
        private ulong _data;

        internal static readonly bool Packed =
            RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;

        internal static int Size => Packed ? 12 : 16;

        internal static void Write(byte* slot, uint events, ulong data)
        {
            *(uint*)slot = events;
            if (Packed)
            {
                Unsafe.WriteUnaligned(slot + 4, data);
            }
            else
            {
                *(ulong*)(slot + 8) = data;
            }
        }

        internal static uint ReadEvents(byte* slot) => *(uint*)slot;

        internal static ulong ReadData(byte* slot) =>
            Packed ? Unsafe.ReadUnaligned<ulong>(slot + 4) : *(ulong*)(slot + 8);
    }
}
