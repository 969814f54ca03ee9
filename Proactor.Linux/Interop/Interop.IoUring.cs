using System.Runtime.InteropServices;

namespace Proactor.Linux;

internal static unsafe partial class Interop
{
    internal static partial class Sys
    {
        // The io_uring syscalls have the same numbers on every architecture (the unified table
        // since Linux 5.1): x86-64, arm64 and the rest all use 425..427. glibc wraps none of them,
        // so they go through syscall(2).
        private const nint SYS_io_uring_setup = 425;
        private const nint SYS_io_uring_enter = 426;
        private const nint SYS_io_uring_register = 427;

        // syscall(2) is variadic; on the LP64 Linux ABIs (x86-64 SysV, AAPCS64) integer and pointer
        // arguments of a variadic call travel in the same registers as fixed ones, so a fixed
        // six-argument signature is a correct call. Unused arguments are passed as zero.
        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        private static partial nint Syscall(nint number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

        /// <summary>io_uring_setup(2): returns the ring descriptor, or -1 with errno.</summary>
        internal static int IoUringSetup(uint entries, IoUringParams* p) =>
            (int)Syscall(SYS_io_uring_setup, (nint)entries, (nint)p, 0, 0, 0, 0);

        /// <summary>io_uring_enter(2): submits <paramref name="toSubmit"/> SQEs and, with
        /// <see cref="IORING_ENTER_GETEVENTS"/>, waits for <paramref name="minComplete"/> CQEs.</summary>
        internal static int IoUringEnter(int fd, uint toSubmit, uint minComplete, uint flags, void* arg, nuint argSize) =>
            (int)Syscall(SYS_io_uring_enter, fd, (nint)toSubmit, (nint)minComplete, (nint)flags, (nint)arg, (nint)argSize);

        /// <summary>io_uring_register(2).</summary>
        internal static int IoUringRegister(int fd, uint opcode, void* arg, uint count) =>
            (int)Syscall(SYS_io_uring_register, fd, (nint)opcode, (nint)arg, (nint)count, 0, 0);

        // Setup flags (io_uring_params.flags).
        internal const uint IORING_SETUP_CQSIZE = 1u << 3;
        internal const uint IORING_SETUP_CLAMP = 1u << 4;
        internal const uint IORING_SETUP_R_DISABLED = 1u << 6;
        internal const uint IORING_SETUP_SUBMIT_ALL = 1u << 7;
        internal const uint IORING_SETUP_COOP_TASKRUN = 1u << 8;
        internal const uint IORING_SETUP_SINGLE_ISSUER = 1u << 12;
        internal const uint IORING_SETUP_DEFER_TASKRUN = 1u << 13;

        // Features reported by the kernel (io_uring_params.features).
        internal const uint IORING_FEAT_SINGLE_MMAP = 1u << 0;
        internal const uint IORING_FEAT_NODROP = 1u << 1;
        internal const uint IORING_FEAT_SUBMIT_STABLE = 1u << 2;
        internal const uint IORING_FEAT_FAST_POLL = 1u << 5;
        internal const uint IORING_FEAT_EXT_ARG = 1u << 8;

        // io_uring_enter flags.
        internal const uint IORING_ENTER_GETEVENTS = 1u << 0;
        internal const uint IORING_ENTER_EXT_ARG = 1u << 3;

        // io_uring_register opcodes.
        internal const uint IORING_REGISTER_ENABLE_RINGS = 12;
        internal const uint IORING_REGISTER_PBUF_RING = 22; // Linux 5.19
        internal const uint IORING_UNREGISTER_PBUF_RING = 23;

        // sqe->flags.
        internal const byte IOSQE_BUFFER_SELECT = 1 << 5;

        // sqe->ioprio for SEND/RECV: keep receiving, one CQE per provided buffer filled (Linux 6.0).
        internal const ushort IORING_RECV_MULTISHOT = 1 << 1;

        // mmap offsets of the three shared regions.
        internal const long IORING_OFF_SQ_RING = 0;
        internal const long IORING_OFF_CQ_RING = 0x8000000;
        internal const long IORING_OFF_SQES = 0x10000000;

        // Opcodes (enum io_uring_op).
        internal const byte IORING_OP_NOP = 0;
        internal const byte IORING_OP_POLL_ADD = 6;
        internal const byte IORING_OP_ACCEPT = 13;
        internal const byte IORING_OP_ASYNC_CANCEL = 14;
        internal const byte IORING_OP_CONNECT = 16;
        internal const byte IORING_OP_READ = 22;
        internal const byte IORING_OP_SEND = 26;
        internal const byte IORING_OP_RECV = 27;

        // sqe->ioprio for ACCEPT: keep accepting, one CQE per connection (Linux 5.19).
        internal const ushort IORING_ACCEPT_MULTISHOT = 1 << 0;

        // cqe->flags: more CQEs will follow for this request (multishot still armed).
        internal const uint IORING_CQE_F_MORE = 1u << 1;

        // cqe->flags: a provided buffer was used; its id is in the upper 16 bits.
        internal const uint IORING_CQE_F_BUFFER = 1u << 0;
        internal const int IORING_CQE_BUFFER_SHIFT = 16;
        internal const uint IORING_CQE_F_SOCK_NONEMPTY = 1u << 2;

        /// <summary>errno ETIME: an io_uring_enter wait ended by its timeout.</summary>
        internal const int ETIME = 62;

        /// <summary>errno EBUSY: the CQ ring overflowed and the kernel refuses new submissions until it is reaped.</summary>
        internal const int EBUSY = 16;

        /// <summary>errno EEXIST: a SINGLE_ISSUER ring was entered by a second task.</summary>
        internal const int EEXIST = 17;
    }

    /// <summary>struct io_sqring_offsets (40 bytes): where the SQ ring's fields lie in its mapping.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoSqringOffsets
    {
        public uint Head;
        public uint Tail;
        public uint RingMask;
        public uint RingEntries;
        public uint Flags;
        public uint Dropped;
        public uint Array;
        public uint Resv1;
        public ulong UserAddr;
    }

    /// <summary>struct io_cqring_offsets (40 bytes): where the CQ ring's fields lie in its mapping.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoCqringOffsets
    {
        public uint Head;
        public uint Tail;
        public uint RingMask;
        public uint RingEntries;
        public uint Overflow;
        public uint Cqes;
        public uint Flags;
        public uint Resv1;
        public ulong UserAddr;
    }

    /// <summary>struct io_uring_params (120 bytes): in, the wanted sizes and flags; out, the
    /// kernel's sizes, features and ring offsets.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoUringParams
    {
        public uint SqEntries;
        public uint CqEntries;
        public uint Flags;
        public uint SqThreadCpu;
        public uint SqThreadIdle;
        public uint Features;
        public uint WqFd;
        public fixed uint Resv[3];
        public IoSqringOffsets SqOff;
        public IoCqringOffsets CqOff;
    }

    /// <summary>
    /// struct io_uring_sqe (64 bytes). The kernel's unions are flattened to the members this
    /// engine uses, at their fixed offsets.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    internal struct IoUringSqe
    {
        [FieldOffset(0)] public byte Opcode;
        [FieldOffset(1)] public byte Flags;
        [FieldOffset(2)] public ushort IoPrio;
        [FieldOffset(4)] public int Fd;
        [FieldOffset(8)] public ulong Off;          // also addr2
        [FieldOffset(16)] public ulong Addr;
        [FieldOffset(24)] public uint Len;
        [FieldOffset(28)] public uint OpFlags;      // msg_flags, poll32_events, accept_flags, cancel_flags, ...
        [FieldOffset(32)] public ulong UserData;
        [FieldOffset(40)] public ushort BufIndex;
        [FieldOffset(42)] public ushort Personality;
        [FieldOffset(44)] public int SpliceFdIn;    // also file_index
        [FieldOffset(48)] public ulong Addr3;
        [FieldOffset(56)] public ulong Pad2;
    }

    /// <summary>struct io_uring_cqe (16 bytes, without IORING_SETUP_CQE32).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoUringCqe
    {
        public ulong UserData;
        public int Res;
        public uint Flags;
    }

    /// <summary>struct io_uring_buf_reg (40 bytes): a provided buffer ring for IORING_REGISTER_PBUF_RING.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoUringBufReg
    {
        public ulong RingAddr;
        public uint RingEntries;
        public ushort Bgid;
        public ushort Flags;
        public fixed ulong Resv[3];
    }

    /// <summary>struct io_uring_buf (16 bytes): one entry of a provided buffer ring. The ring's
    /// tail (a u16) overlays the <c>resv</c> field of entry 0, at byte 14.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoUringBuf
    {
        public ulong Addr;
        public uint Len;
        public ushort Bid;
        public ushort Resv;
    }

    /// <summary>struct io_uring_getevents_arg: passed with IORING_ENTER_EXT_ARG to bound the wait.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoUringGeteventsArg
    {
        public ulong Sigmask;
        public uint SigmaskSz;
        public uint MinWaitUsec; // "pad" before Linux 6.12; must stay zero
        public ulong Ts;
    }

    /// <summary>struct __kernel_timespec: 64-bit seconds and nanoseconds on every architecture.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct KernelTimespec
    {
        public long Sec;
        public long Nsec;
    }
}
