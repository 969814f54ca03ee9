using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Bench.Servers;

/// <summary>The baseline: the same echo loop on System.Net.Sockets async.</summary>
internal sealed class SocketsEchoServer : IEchoServer
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();

    public SocketsEchoServer(IPEndPoint endPoint)
    {
        _listener = EchoSettings.Listen(endPoint);

        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _udp = UdpEcho.TryStart(() => UdpEcho.StartSockets(EndPoint));
        _ = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint { get; }

    public string Name => "System.Net.Sockets async";

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted)
            {
                return;
            }
            catch (SocketException e)
            {
                Console.Error.WriteLine($"accept failed: {e.Message}");
                await Task.Delay(10);
                continue;
            }

            _ = EchoAsync(connection);
        }
    }

    private static async Task EchoAsync(Socket connection)
    {
        using (connection)
        {
            try
            {
                connection.NoDelay = true;
                byte[] buffer = new byte[EchoSettings.BufferSize];
                int n;
                while ((n = await connection.ReceiveAsync(buffer.AsMemory(), SocketFlags.None)) > 0)
                {
                    int sent = 0;
                    while (sent < n)
                    {
                        sent += await connection.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None);
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
    }

    private readonly IDisposable? _udp;

    public void Dispose()
    {
        _udp?.Dispose();
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
    }
}
