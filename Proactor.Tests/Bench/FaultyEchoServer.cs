using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Tests.Bench;

/// <summary>What <see cref="FaultyEchoServer"/> does wrong, on its first connection only.</summary>
internal enum EchoFault
{
    None,

    /// <summary>Flips one byte of the echoed stream.</summary>
    CorruptOneByte,

    /// <summary>Leaves one whole message out of the echo.</summary>
    DropOneMessage,
}

/// <summary>
/// A System.Net.Sockets echo server for the load generator's own tests: correct, or wrong in one
/// precise way on its first connection (stream offsets are counted per connection, so the fault
/// lands at a known message whatever TCP's segmenting does).
/// </summary>
internal sealed class FaultyEchoServer : IDisposable
{
    private readonly Socket _listener;
    private readonly EchoFault _fault;
    private readonly long _faultOffset;
    private readonly int _messageSize;
    private readonly CancellationTokenSource _stop = new();
    private int _connections;

    /// <param name="fault">What to do wrong.</param>
    /// <param name="messageSize">The load's message size (a dropped message is this long).</param>
    /// <param name="faultMessage">The index of the message that is corrupted or dropped.</param>
    public FaultyEchoServer(EchoFault fault, int messageSize, int faultMessage = 20)
    {
        _fault = fault;
        _messageSize = messageSize;
        _faultOffset = (long)faultMessage * messageSize + (fault == EchoFault.CorruptOneByte ? messageSize / 2 : 0);
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                Socket connection = await _listener.AcceptAsync(_stop.Token);
                bool faulty = Interlocked.Increment(ref _connections) == 1 && _fault != EchoFault.None;
                _ = EchoAsync(connection, faulty);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task EchoAsync(Socket connection, bool faulty)
    {
        using (connection)
        {
            try
            {
                byte[] buffer = new byte[16 * 1024];
                long offset = 0; // of buffer[0] in the connection's incoming stream
                int n;
                while ((n = await connection.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, _stop.Token)) > 0)
                {
                    Memory<byte> echo = buffer.AsMemory(0, n);
                    if (faulty && _faultOffset >= offset && _faultOffset < offset + n)
                    {
                        int at = (int)(_faultOffset - offset);
                        if (_fault == EchoFault.CorruptOneByte)
                        {
                            buffer[at] ^= 0x5a;
                        }
                    }

                    if (faulty && _fault == EchoFault.DropOneMessage)
                    {
                        // Echo the chunk minus whatever part of [faultOffset, faultOffset + size) it holds.
                        long dropStart = Math.Max(_faultOffset, offset), dropEnd = Math.Min(_faultOffset + _messageSize, offset + n);
                        if (dropStart < dropEnd)
                        {
                            await connection.SendAsync(buffer.AsMemory(0, (int)(dropStart - offset)), SocketFlags.None);
                            echo = buffer.AsMemory((int)(dropEnd - offset), (int)(offset + n - dropEnd));
                        }
                    }

                    await connection.SendAsync(echo, SocketFlags.None);
                    offset += n;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
    }
}
