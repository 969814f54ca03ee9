using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace Proactor.Bench.Servers;

/// <summary>The "one thread per request" model: a blocking accept loop and one blocking thread
/// per connection. Small stacks, so a thousand connections cost a thousand threads, not gigabytes.</summary>
internal sealed class BlockingEchoServer : IEchoServer
{
    private const int StackSize = 256 * 1024;
    private readonly Socket _listener;
    private volatile bool _stopping;

    public BlockingEchoServer(IPEndPoint endPoint)
    {
        _listener = EchoSettings.Listen(endPoint);

        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _udp = UdpEcho.TryStart(() => UdpEcho.StartBlocking(EndPoint));
        new Thread(AcceptLoop, StackSize) { IsBackground = true, Name = "blocking-accept" }.Start();
    }

    public IPEndPoint EndPoint { get; }

    public string Name => "thread per connection (blocking)";

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            Socket connection;
            try
            {
                connection = _listener.Accept();
            }
            catch (SocketException e)
            {
                if (_stopping || e.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
                {
                    return;
                }

                Console.Error.WriteLine($"accept failed: {e.Message}");
                Thread.Sleep(10);
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            new Thread(Echo, StackSize) { IsBackground = true, Name = "blocking-echo" }.Start(connection);
        }
    }

    private static void Echo(object? state)
    {
        using var connection = (Socket)state!;
        try
        {
            connection.NoDelay = true;
            byte[] buffer = new byte[EchoSettings.BufferSize];
            int n;
            while ((n = connection.Receive(buffer)) > 0)
            {
                int sent = 0;
                while (sent < n)
                {
                    sent += connection.Send(buffer, sent, n - sent, SocketFlags.None);
                }
            }
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private readonly IDisposable? _udp;

    public void Dispose()
    {
        _udp?.Dispose();
        _stopping = true;
        _listener.Dispose();
    }
}
