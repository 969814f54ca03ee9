using System;
using System.Net.Sockets;

namespace Proactor;

public sealed partial class ProactorSocket
{
    /// <summary>Disables Nagle's algorithm (TCP_NODELAY).</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The OS refused the option.</exception>
    public bool NoDelay
    {
        get => GetIntOption(SocketOptionLevel.Tcp, SocketOptionName.NoDelay) != 0;
        set => SetIntOption(SocketOptionLevel.Tcp, SocketOptionName.NoDelay, value ? 1 : 0);
    }

    /// <summary>The OS receive buffer size (SO_RCVBUF).</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The OS refused the option.</exception>
    public int ReceiveBufferSize
    {
        get => GetIntOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value); // as Socket.ReceiveBufferSize
            SetIntOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer, value);
        }
    }

    /// <summary>The OS send buffer size (SO_SNDBUF).</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The OS refused the option.</exception>
    public int SendBufferSize
    {
        get => GetIntOption(SocketOptionLevel.Socket, SocketOptionName.SendBuffer);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value); // as Socket.SendBufferSize
            SetIntOption(SocketOptionLevel.Socket, SocketOptionName.SendBuffer, value);
        }
    }

    /// <summary>SO_LINGER: with <c>new LingerOption(true, 0)</c>, closing resets the connection.</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public LingerOption? LingerState
    {
        get => ControlSocket().LingerState;
        set => ControlSocket().LingerState = value!;
    }

    /// <summary>Sends TCP keep-alive probes (SO_KEEPALIVE).</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public bool KeepAlive
    {
        get => GetIntOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive) != 0;
        set => SetIntOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, value ? 1 : 0);
    }

    /// <summary>Allows binding an address in TIME_WAIT (SO_REUSEADDR).</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public bool ReuseAddress
    {
        get => (int)ControlSocket().GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress)! != 0;
        set => ControlSocket().SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, value);
    }

    /// <summary>Sets an integer socket option.</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public void SetSocketOption(SocketOptionLevel level, SocketOptionName name, int value) =>
        SetIntOption(level, name, value);

    /// <summary>Sets a boolean socket option.</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public void SetSocketOption(SocketOptionLevel level, SocketOptionName name, bool value) =>
        SetIntOption(level, name, value ? 1 : 0);

    /// <summary>Gets a socket option.</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public object? GetSocketOption(SocketOptionLevel level, SocketOptionName name)
    {
        ThrowIfDisposed();
        EngineSocket engineSocket = _engineSocket;
        return !engineSocket.HasSocket && engineSocket.TryGetOption(level, name, out int value)
            ? value
            : engineSocket.Socket.GetSocketOption(level, name);
    }

    /// <summary>Sets a raw option by platform level and name (e.g. SO_REUSEPORT on Linux).</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public void SetRawSocketOption(int optionLevel, int optionName, System.ReadOnlySpan<byte> optionValue) =>
        ControlSocket().SetRawSocketOption(optionLevel, optionName, optionValue);

    // The options every server sets per connection (TCP_NODELAY above all) go straight to the
    // descriptor of a connection that has no runtime Socket, so setting one does not make it one.
    private void SetIntOption(SocketOptionLevel level, SocketOptionName name, int value)
    {
        ThrowIfDisposed();
        EngineSocket engineSocket = _engineSocket;
        if (engineSocket.HasSocket || !engineSocket.TrySetOption(level, name, value))
        {
            engineSocket.Socket.SetSocketOption(level, name, value);
        }
    }

    private int GetIntOption(SocketOptionLevel level, SocketOptionName name)
    {
        ThrowIfDisposed();
        EngineSocket engineSocket = _engineSocket;
        return !engineSocket.HasSocket && engineSocket.TryGetOption(level, name, out int value)
            ? value
            : (int)engineSocket.Socket.GetSocketOption(level, name)!;
    }

    private System.Net.Sockets.Socket ControlSocket()
    {
        ThrowIfDisposed();
        return OsSocket;
    }
}
