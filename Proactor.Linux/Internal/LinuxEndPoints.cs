using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>getsockname/getpeername into an <see cref="IPEndPoint"/>, for every Linux backend.</summary>
/// <remarks>Computed on each call, not cached: an accepted connection has no runtime Socket to
/// keep them, and a connected socket's names do not change.</remarks>
[SupportedOSPlatform("linux")]
internal static unsafe class LinuxEndPoints
{
    public static EndPoint? Get(SafeHandle handle, AddressFamily family, bool peer)
    {
        const int Capacity = 128; // sizeof(struct sockaddr_storage)
        byte* buffer = stackalloc byte[Capacity];
        uint length = Capacity;
        bool added = false;
        int rc;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            rc = peer
                ? Interop.Sys.GetPeerName(fd, buffer, &length)
                : Interop.Sys.GetSockName(fd, buffer, &length);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        return rc != 0 || length > Capacity
            ? null
            : SocketNames.ToEndPoint(family, new ReadOnlySpan<byte>(buffer, (int)length));
    }
}
