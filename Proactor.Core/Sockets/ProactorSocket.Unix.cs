using System;
using System.Net;
using System.Net.Sockets;

namespace Proactor;

/// <remarks>
/// Unix domain sockets: create them with <see cref="AddressFamily.Unix"/> (or
/// <see cref="CreateListener(ProactorEngine, UnixDomainSocketEndPoint, int)"/>) and address them with
/// <see cref="UnixDomainSocketEndPoint"/>. A path that starts with a NUL character is an abstract
/// name on Linux: it lives in no directory and vanishes with its last socket. As with
/// <see cref="Socket"/> (Proactor binds through it), disposing the socket that bound a path removes
/// the socket file; a file left by a process that crashed stays, and a bind to that path then fails
/// with <see cref="SocketError.AddressAlreadyInUse"/> (delete it before binding, as servers usually do).
/// </remarks>
public sealed partial class ProactorSocket
{
    /// <summary>Creates a Unix domain stream socket bound to <paramref name="localEndPoint"/> and listening.</summary>
    /// <param name="engine">The engine that will run the listener and the connections it accepts.</param>
    /// <param name="localEndPoint">A path (the socket file is created; it must not exist yet) or, on Linux,
    /// an abstract name (a path starting with <c>'\0'</c>).</param>
    /// <param name="backlog">The OS accept queue length (capped by the OS).</param>
    /// <returns>The listening socket.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    /// <exception cref="SocketException">The bind or listen failed (e.g. the file exists:
    /// <see cref="SocketError.AddressAlreadyInUse"/>), or the OS has no Unix domain sockets.</exception>
    /// <remarks>Disposing the listener removes the socket file, as <see cref="Socket"/> does (on io_uring a
    /// moment later, when the ring thread closes the descriptor).</remarks>
    public static ProactorSocket CreateListener(ProactorEngine engine, UnixDomainSocketEndPoint localEndPoint, int backlog = 512)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(localEndPoint);
        ArgumentOutOfRangeException.ThrowIfNegative(backlog);
        return BindAndListen(new ProactorSocket(engine, AddressFamily.Unix), localEndPoint, backlog);
    }

    private SocketAddress SerializeUnix(UnixDomainSocketEndPoint endPoint, string parameterName)
    {
        if (AddressFamily != AddressFamily.Unix)
        {
            throw new ArgumentException(
                $"A UnixDomainSocketEndPoint needs a socket of AddressFamily.Unix, but this socket is {AddressFamily}.",
                parameterName);
        }

        return endPoint.Serialize();
    }
}
