using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// What the Linux backends' sockets (emulated and io_uring) share: names, per-connection options
/// and shutdown go straight to the descriptor, so an accepted connection needs no runtime
/// <see cref="Socket"/> until something else asks for one (<see cref="LinuxSocketControl"/>).
/// </summary>
[SupportedOSPlatform("linux")]
internal abstract class LinuxEngineSocket : EngineSocket
{
    protected LinuxEngineSocket(ProactorEngine engine, Socket socket)
        : base(engine, socket)
    {
    }

    /// <summary>An accepted connection on its bare descriptor.</summary>
    protected LinuxEngineSocket(ProactorEngine engine, SafeHandle descriptor, AddressFamily addressFamily)
        : base(engine, descriptor, addressFamily)
    {
    }

    /// <summary>What the kernel still held after this socket's last receive that was tried
    /// directly (<see cref="NonBlockingIo"/>). Read and written only by receive tries, which each
    /// engine serializes per direction (the emulated engines under the receive queue's lock,
    /// io_uring under the receive side's gate).</summary>
    internal ReceiveBacklog Backlog;

    public override EndPoint? GetLocalEndPoint() => LinuxEndPoints.Get(Handle, AddressFamily, peer: false);

    public override EndPoint? GetRemoteEndPoint() => LinuxEndPoints.Get(Handle, AddressFamily, peer: true);

    protected override Socket CreateControlSocket() => LinuxSocketControl.CreateSocket(Handle);

    public override bool TrySetOption(SocketOptionLevel level, SocketOptionName name, int value) =>
        LinuxSocketControl.TrySetOption(Handle, level, name, value);

    public override bool TryGetOption(SocketOptionLevel level, SocketOptionName name, out int value) =>
        LinuxSocketControl.TryGetOption(Handle, level, name, out value);

    public override bool TryShutdown(SocketShutdown how)
    {
        if (HasSocket)
        {
            return false; // the runtime Socket tracks a shutdown for its own close
        }

        LinuxSocketControl.Shutdown(Handle, how);
        return true;
    }
}
