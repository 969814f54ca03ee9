using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Bench.Load;

internal sealed partial class LoadGenerator
{
    /// <summary>How long a datagram's echo may take before it counts as lost and is sent again.</summary>
    private static readonly TimeSpan UdpLossTimeout = TimeSpan.FromSeconds(1);

    /// <summary>UDP ping-pong: one datagram in flight per socket, its echo compared byte for byte.
    /// A datagram (or its echo) that is lost is sent again after <see cref="UdpLossTimeout"/>;
    /// the measured latency then includes the wait, as a client would see it. The sockets run on
    /// the load generator's engines like the TCP clients (inline epoll): a round trip costs the
    /// client no thread-pool hop, and the engine keeps the loss deadline (no timer per datagram).</summary>
    private async Task UdpPingPongAsync(int id)
    {
        int size = _request.MessageSize;
        byte[] received = new byte[size + 1];
        CancellationToken abort = _abort.Token;
        long k = 0;
        bool ready = false;
        ProactorEngine engine = _engines[(int)((uint)Interlocked.Increment(ref _nextEngine) % (uint)_engines.Count)];
        ProactorSocket socket = ProactorSocket.CreateDatagram(engine, _endPoint.AddressFamily);
        _open.TryAdd(socket, 0); // closed by the drain like a TCP client's
        try
        {
            await socket.ConnectAsync(_endPoint, abort);
            while (Phase != Stopping)
            {
                ReadOnlyMemory<byte> message = _payload.Message(id, k);
                long start = Stopwatch.GetTimestamp();
                int n;
                while (true)
                {
                    await socket.SendAsync(message, abort);
                    try
                    {
                        n = await socket.ReceiveAsync(received, UdpLossTimeout, abort);
                        break;
                    }
                    catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut && Phase != Stopping)
                    {
                        // Lost: the timed-out receive took nothing and the socket stays usable.
                    }
                }

                if (n != size || !received.AsSpan(0, n).SequenceEqual(message.Span))
                {
                    throw new LoadException($"udp socket {id}: the echo of datagram {k} differs ({n} bytes back for {size})");
                }

                Completed(start, Stopwatch.GetTimestamp(), size);
                MarkReady(ref ready);
                k++;
            }
        }
        catch (OperationCanceledException) when (Phase == Stopping || abort.IsCancellationRequested)
        {
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut && Phase == Stopping)
        {
            // The last datagram of the window was lost: nothing was counted for it.
        }
        catch (Exception e)
        {
            Failed(id, k, e);
        }
        finally
        {
            Close(socket);
            MarkReady(ref ready);
        }
    }
}
