using System;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace Proactor;

public sealed partial class ProactorSocket : IAsyncDisposable
{
    private ProactorSocket(ProactorEngine engine, Socket socket, bool connected, bool listening)
    {
        _connected = connected;
        _engineSocket = RegisterOrDispose(engine, socket);
        engine.OnSocketOpened();
        if (listening)
        {
            _listening = true;
            _engineSocket.OnListening();
        }
    }

    /// <summary>
    /// Wraps an existing stream <see cref="Socket"/> (connected, listening, or neither yet) into a
    /// <see cref="ProactorSocket"/> on <paramref name="engine"/>, which takes ownership of it.
    /// </summary>
    /// <param name="engine">The engine that will run the socket's operations.</param>
    /// <param name="socket">A TCP or Unix domain stream socket on which no asynchronous operation of
    /// <see cref="Socket"/> was started (those tie it to the runtime's own engine). It is made non-blocking.</param>
    /// <returns>The wrapping socket: dispose it (not <paramref name="socket"/>) to close.</returns>
    /// <remarks>A socket refused by validation stays the caller's. Once validation passed, the
    /// <see cref="ProactorSocket"/> owns it: if the engine cannot register it, it is disposed and the
    /// error thrown. Do not use <paramref name="socket"/> for I/O afterwards.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The socket is not a stream socket of IPv4, IPv6 or Unix.</exception>
    /// <exception cref="ObjectDisposedException">The socket or the engine was disposed.</exception>
    /// <exception cref="SocketException">The engine could not register the socket (it was disposed).</exception>
    public static ProactorSocket FromSocket(ProactorEngine engine, Socket socket)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(socket);
        engine.ThrowIfDisposed();
        ObjectDisposedException.ThrowIf(socket.SafeHandle.IsClosed, typeof(Socket));
        if (socket.SocketType != SocketType.Stream ||
            socket.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 or AddressFamily.Unix))
        {
            throw new ArgumentException(
                $"Only stream sockets of InterNetwork, InterNetworkV6 or Unix can be wrapped, not {socket.SocketType} of {socket.AddressFamily}.",
                nameof(socket));
        }

        bool listening;
        bool connected;
        try
        {
            listening = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection)! != 0;
            connected = !listening && socket.Connected;
        }
        catch (SocketException e)
        {
            throw new ArgumentException($"The socket's state could not be read ({e.SocketErrorCode}); is it a socket?", nameof(socket), e);
        }

        return new ProactorSocket(engine, socket, connected, listening);
    }

    /// <summary>Wraps an OS socket handle (connected, listening, or neither yet) into a
    /// <see cref="ProactorSocket"/> on <paramref name="engine"/>, which takes ownership of it.</summary>
    /// <param name="engine">The engine that will run the socket's operations.</param>
    /// <param name="handle">A handle of a TCP or Unix domain stream socket.</param>
    /// <returns>The wrapping socket: dispose it to close the handle.</returns>
    /// <remarks>See <see cref="FromSocket(ProactorEngine, Socket)"/>.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The handle is invalid or not a stream socket of IPv4, IPv6 or Unix.</exception>
    /// <exception cref="ObjectDisposedException">The handle was closed, or the engine was disposed.</exception>
    public static ProactorSocket FromSafeSocketHandle(ProactorEngine engine, SafeSocketHandle handle)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(handle);
        engine.ThrowIfDisposed();
        ObjectDisposedException.ThrowIf(handle.IsClosed, typeof(SafeSocketHandle));
        if (handle.IsInvalid)
        {
            throw new ArgumentException("The handle is invalid.", nameof(handle));
        }

        Socket socket;
        try
        {
            socket = new Socket(handle);
        }
        catch (SocketException e)
        {
            throw new ArgumentException($"The handle is not a usable socket ({e.SocketErrorCode}).", nameof(handle), e);
        }

        return FromSocket(engine, socket);
    }

    /// <summary>Closes the socket, as <see cref="Dispose"/> does (which never blocks).</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
