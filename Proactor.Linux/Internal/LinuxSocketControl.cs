using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// The control plane of a connection that runs on its bare descriptor (an accepted one): the
/// options servers set per connection and shutdown, straight on the descriptor, and the runtime
/// <see cref="Socket"/> for everything else, made on first use over a duplicate descriptor.
/// </summary>
/// <remarks>
/// Why a duplicate: a runtime Socket must own a <see cref="SafeSocketHandle"/>, and the descriptor
/// is already owned by the engine's handle, whose references keep it open while a syscall or an
/// SQE names it. Both descriptors name the same socket, so options and shutdown act on the
/// connection; the connection ends when the last is closed (EngineSocket closes the duplicate first).
/// </remarks>
[SupportedOSPlatform("linux")]
internal static unsafe class LinuxSocketControl
{
    public static Socket CreateSocket(SafeHandle descriptor)
    {
        int duplicate;
        bool added = false;
        try
        {
            descriptor.DangerousAddRef(ref added);
            duplicate = Interop.Sys.Fcntl((int)descriptor.DangerousGetHandle(), Interop.Sys.F_DUPFD_CLOEXEC, 0);
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(nameof(ProactorSocket), $"The {nameof(ProactorSocket)} was disposed.");
        }
        finally
        {
            if (added)
            {
                descriptor.DangerousRelease();
            }
        }

        if (duplicate < 0)
        {
            throw new SocketException((int)Interop.Errno.ToSocketError(Interop.Errno.Last));
        }

        var handle = new SafeSocketHandle(duplicate, ownsHandle: true);
        try
        {
            return new Socket(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public static bool TrySetOption(SafeHandle descriptor, SocketOptionLevel level, SocketOptionName name, int value)
    {
        if (!TryMap(level, name, out int osLevel, out int osName))
        {
            return false;
        }

        Call(descriptor, osLevel, osName, &value, set: true);
        return true;
    }

    public static bool TryGetOption(SafeHandle descriptor, SocketOptionLevel level, SocketOptionName name, out int value)
    {
        value = 0;
        if (!TryMap(level, name, out int osLevel, out int osName))
        {
            return false;
        }

        int result;
        Call(descriptor, osLevel, osName, &result, set: false);
        value = result;
        return true;
    }

    /// <summary>shutdown(2): <see cref="SocketShutdown"/>'s values are Linux's SHUT_RD/WR/RDWR.</summary>
    public static void Shutdown(SafeHandle descriptor, SocketShutdown how)
    {
        bool added = false;
        int rc;
        try
        {
            descriptor.DangerousAddRef(ref added);
            rc = Interop.Sys.Shutdown((int)descriptor.DangerousGetHandle(), (int)how);
        }
        finally
        {
            if (added)
            {
                descriptor.DangerousRelease();
            }
        }

        if (rc != 0)
        {
            throw new SocketException((int)Interop.Errno.ToSocketError(Interop.Errno.Last));
        }
    }

    /// <summary>Only options whose meaning System.Net.Sockets passes to Linux unchanged (its
    /// ReuseAddress, for one, sets SO_REUSEPORT too): the rest go through the runtime Socket.</summary>
    private static bool TryMap(SocketOptionLevel level, SocketOptionName name, out int osLevel, out int osName)
    {
        (osLevel, osName) = (level, name) switch
        {
            (SocketOptionLevel.Tcp, SocketOptionName.NoDelay) => (Interop.Sys.IPPROTO_TCP, Interop.Sys.TCP_NODELAY),
            (SocketOptionLevel.Socket, SocketOptionName.KeepAlive) => (Interop.Sys.SOL_SOCKET, Interop.Sys.SO_KEEPALIVE),
            (SocketOptionLevel.Socket, SocketOptionName.SendBuffer) => (Interop.Sys.SOL_SOCKET, Interop.Sys.SO_SNDBUF),
            (SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer) => (Interop.Sys.SOL_SOCKET, Interop.Sys.SO_RCVBUF),
            _ => (-1, -1),
        };
        return osLevel >= 0;
    }

    private static void Call(SafeHandle descriptor, int level, int name, int* value, bool set)
    {
        bool added = false;
        int rc;
        try
        {
            descriptor.DangerousAddRef(ref added);
            int fd = (int)descriptor.DangerousGetHandle();
            uint length = sizeof(int);
            rc = set
                ? Interop.Sys.SetSockOpt(fd, level, name, value, length)
                : Interop.Sys.GetSockOpt(fd, level, name, value, &length);
        }
        finally
        {
            if (added)
            {
                descriptor.DangerousRelease();
            }
        }

        if (rc != 0)
        {
            throw new SocketException((int)Interop.Errno.ToSocketError(Interop.Errno.Last));
        }
    }
}
