using System;
using System.Buffers;
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
    private readonly BlockingHandler? _blocking;

    public SocketsEchoServer(IPEndPoint endPoint, BlockingHandler? blocking = null)
    {
        _blocking = blocking;
        _listener = EchoSettings.Listen(endPoint);

        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _udp = UdpEcho.TryStart(() => UdpEcho.StartSockets(EndPoint));
        _unix = UnixEcho.TryStart(EndPoint.Port, endPoint =>
        {
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                listener.Bind(endPoint);
                listener.Listen(EchoSettings.Backlog);
            }
            catch
            {
                listener.Dispose();
                throw;
            }

            _ = AcceptLoopAsync(listener);
            return listener;
        });
        _ = AcceptLoopAsync(_listener);
    }

    public IPEndPoint EndPoint { get; }

    public string Name => _blocking is null ? "System.Net.Sockets async" : $"System.Net.Sockets async, {_blocking}";

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(_stop.Token);
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

            _ = EchoAsync(connection, _blocking);
        }
    }

    private static async Task EchoAsync(Socket connection, BlockingHandler? blocking)
    {
        using (connection)
        {
            try
            {
                if (connection.AddressFamily != AddressFamily.Unix)
                {
                    connection.NoDelay = true;
                }

                while (true)
                {
                    // The same shape as the Proactor echo server (and Kestrel's default): a zero-byte
                    // receive waits for data, the buffer is rented only while there is some.
                    await connection.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                    byte[] buffer = ArrayPool<byte>.Shared.Rent(EchoSettings.BufferSize);
                    try
                    {
                        int n = await connection.ReceiveAsync(buffer.AsMemory(0, EchoSettings.BufferSize), SocketFlags.None);
                        if (n == 0)
                        {
                            return;
                        }

                        blocking?.OnMessage();
                        int sent = 0;
                        while (sent < n)
                        {
                            sent += await connection.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None);
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
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
    private readonly IDisposable? _unix;

    public void Dispose()
    {
        _udp?.Dispose();
        _unix?.Dispose();
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
    }
}
