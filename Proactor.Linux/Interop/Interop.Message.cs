using System.Runtime.InteropServices;

namespace Proactor.Linux;

internal static unsafe partial class Interop
{
    internal static partial class Sys
    {
        internal const int MSG_OOB = 0x1;
        internal const int MSG_CTRUNC = 0x8;
        internal const int MSG_TRUNC = 0x20;
        internal const int IPPROTO_IP = 0;
        internal const int IPPROTO_IPV6 = 41;
        internal const int IP_PKTINFO = 8;
        internal const int IPV6_PKTINFO = 50;
        internal const byte IORING_OP_SENDMSG = 9;
        internal const byte IORING_OP_RECVMSG = 10;

        /// <summary>struct iovec.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct IoVec
        {
            public byte* Base;
            public nuint Length;
        }

        /// <summary>struct msghdr (LP64: 56 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct MsgHdr
        {
            public byte* Name;
            public uint NameLength;
            public IoVec* Iov;
            public nuint IovLength;
            public byte* Control;
            public nuint ControlLength;
            public int Flags;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "recvmsg", SetLastError = true)]
        internal static partial nint RecvMsg(int sockfd, MsgHdr* msg, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "sendmsg", SetLastError = true)]
        internal static partial nint SendMsg(int sockfd, MsgHdr* msg, int flags);
    }
}
