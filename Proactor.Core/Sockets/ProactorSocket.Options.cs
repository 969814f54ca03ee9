using System.Net.Sockets;

namespace Proactor;

public sealed partial class ProactorSocket
{
    /// <summary>Disables Nagle's algorithm (TCP_NODELAY).</summary>
    public bool NoDelay
    {
        get => _socket.NoDelay;
        set => _socket.NoDelay = value;
    }

    /// <summary>The OS receive buffer size (SO_RCVBUF).</summary>
    public int ReceiveBufferSize
    {
        get => _socket.ReceiveBufferSize;
        set => _socket.ReceiveBufferSize = value;
    }

    /// <summary>The OS send buffer size (SO_SNDBUF).</summary>
    public int SendBufferSize
    {
        get => _socket.SendBufferSize;
        set => _socket.SendBufferSize = value;
    }

    /// <summary>SO_LINGER: with <c>new LingerOption(true, 0)</c>, closing resets the connection.</summary>
    public LingerOption? LingerState
    {
        get => _socket.LingerState;
        set => _socket.LingerState = value!;
    }

    /// <summary>Sends TCP keep-alive probes (SO_KEEPALIVE).</summary>
    public bool KeepAlive
    {
        get => (int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)! != 0;
        set => _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, value);
    }

    /// <summary>Allows binding an address in TIME_WAIT (SO_REUSEADDR).</summary>
    public bool ReuseAddress
    {
        get => (int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress)! != 0;
        set => _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, value);
    }

    /// <summary>Sets an integer socket option.</summary>
    public void SetSocketOption(SocketOptionLevel level, SocketOptionName name, int value) =>
        _socket.SetSocketOption(level, name, value);

    /// <summary>Sets a boolean socket option.</summary>
    public void SetSocketOption(SocketOptionLevel level, SocketOptionName name, bool value) =>
        _socket.SetSocketOption(level, name, value);

    /// <summary>Gets a socket option.</summary>
    public object? GetSocketOption(SocketOptionLevel level, SocketOptionName name) =>
        _socket.GetSocketOption(level, name);

    /// <summary>Sets a raw option by platform level and name (e.g. SO_REUSEPORT on Linux).</summary>
    public void SetRawSocketOption(int optionLevel, int optionName, System.ReadOnlySpan<byte> optionValue) =>
        _socket.SetRawSocketOption(optionLevel, optionName, optionValue);
}
