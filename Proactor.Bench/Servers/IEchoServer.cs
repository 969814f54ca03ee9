using System;
using System.Net;

namespace Proactor.Bench.Servers;

/// <summary>A running echo server: every byte a client sends comes back, in order.</summary>
internal interface IEchoServer : IDisposable
{
    /// <summary>Where it listens (the port chosen by the OS when 0 was asked).</summary>
    IPEndPoint EndPoint { get; }

    /// <summary>A short description for the "listening" line.</summary>
    string Name { get; }
}

/// <summary>Settings shared by the echo servers.</summary>
internal static class EchoSettings
{
    /// <summary>Receive buffer, the same for every server: big enough that streaming is not
    /// syscall-bound. The async servers rent it only while a connection has data (an idle one
    /// waits with a zero-byte receive); the blocking one holds it per connection.</summary>
    public const int BufferSize = 16 * 1024;

    /// <summary>Listen backlog (the kernel caps it at somaxconn).</summary>
    public const int Backlog = 4096;

    /// <summary>A System.Net.Sockets listener for the baseline servers, bound and listening.</summary>
    public static System.Net.Sockets.Socket Listen(IPEndPoint endPoint)
    {
        var listener = new System.Net.Sockets.Socket(endPoint.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            listener.Bind(endPoint);
            listener.Listen(Backlog);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }
}
