using System;
using System.Net.Sockets;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// What one TCP socket's last direct receive learned of the kernel's receive queue: how many
/// bytes were still there after it (<c>TCP_INQ</c>, one control message per <c>recvmsg</c>).
/// A zero-byte receive (a server's wait for data) that follows a receive which left bytes behind
/// completes at once, without the one-byte peek it would otherwise cost: on a stream that is one
/// syscall of three per buffer.
/// </summary>
/// <remarks>
/// Reports are asked for (one <c>setsockopt</c>) only once a receive filled its whole buffer, the
/// only case in which more may be waiting: request-response traffic, whose messages fit one
/// buffer, never pays for the larger call. The count is the kernel's own and exact when read;
/// only this socket's receives take bytes away, and each of them either sets it again (a direct
/// try) or clears it (anything else: a receive posted to a ring, a message receive, a reactor's
/// try), so a count above zero always means the bytes are there, or the peer's end is (the kernel
/// counts a received FIN as one byte), which a zero-byte receive also reports as ready.
/// </remarks>
[SupportedOSPlatform("linux")]
internal struct ReceiveBacklog
{
    // 0: not asked yet; -1: not available (not TCP, or the kernel refused); n > 0: reporting,
    // n - 1 bytes left. One int: every idle connection carries it.
    private int _value;

    /// <summary>Zero-byte receives answered from <see cref="Left"/>, without a syscall (for tests).</summary>
    public int WaitsAnswered;

    /// <summary>Bytes the kernel held after the last direct receive; 0 when unknown or none.</summary>
    public readonly int Left => _value > 0 ? _value - 1 : 0;

    /// <summary>Whether receives ask the kernel for <see cref="Left"/>.</summary>
    public readonly bool IsReporting => _value > 0;

    /// <summary>Some receive took bytes without counting what it left: <see cref="Left"/> is unknown.</summary>
    public void Forget()
    {
        if (_value > 1)
        {
            _value = 1;
        }
    }

    /// <summary>A receive the count did not see (io_uring's, on the ring) says bytes are left
    /// (<c>IORING_CQE_F_SOCK_NONEMPTY</c>): at least one, while reporting.</summary>
    public void KnowSomeLeft()
    {
        if (_value == 1)
        {
            _value = 2;
        }
    }

    /// <summary>After a direct receive that filled its buffer: asks the kernel to report what is
    /// left from now on (TCP sockets only; once per socket, whatever the answer).</summary>
    public unsafe void StartReporting(int fd, AddressFamily family, SocketType type)
    {
        if (_value != 0)
        {
            return;
        }

        _value = -1;
        if (type == SocketType.Stream && family is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
        {
            int on = 1;
            if (Interop.Sys.SetSockOpt(fd, Interop.Sys.IPPROTO_TCP, Interop.Sys.TCP_INQ, &on, sizeof(int)) == 0)
            {
                _value = 1;
            }
        }
    }

    /// <summary><c>recv</c> as <c>recvmsg</c> with room for the <c>TCP_CM_INQ</c> control
    /// message, while <see cref="IsReporting"/>; sets <see cref="Left"/> from it (0 when the call
    /// failed or the message is missing).</summary>
    public unsafe nint Receive(int fd, byte* buffer, nuint length, int flags)
    {
        // struct cmsghdr { size_t len; int level; int type; } and an int, 8-aligned: 24 bytes.
        ulong* control = stackalloc ulong[3];
        Interop.Sys.IoVec iov = new() { Base = buffer, Length = length };
        Interop.Sys.MsgHdr header = new() { Iov = &iov, IovLength = 1, Control = (byte*)control, ControlLength = 3 * sizeof(ulong) };
        nint n = Interop.Sys.RecvMsg(fd, &header, flags);
        int left = 0;
        if (n > 0 && header.ControlLength >= 20 &&
            ((int*)control)[2] == Interop.Sys.IPPROTO_TCP && ((int*)control)[3] == Interop.Sys.TCP_INQ)
        {
            left = Math.Max(0, ((int*)control)[4]);
        }

        _value = 1 + left;
        return n;
    }
}
