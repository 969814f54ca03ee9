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
    /// the measured latency then includes the wait, as a client would see it.</summary>
    private async Task UdpPingPongAsync(int id)
    {
        int size = _request.MessageSize;
        byte[] received = new byte[size + 1];
        CancellationToken abort = _abort.Token;
        long k = 0;
        bool ready = false;
        using var socket = new Socket(_endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        CancellationTokenSource timeout = CancellationTokenSource.CreateLinkedTokenSource(abort);
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
                    await socket.SendAsync(message, SocketFlags.None, abort);
                    timeout.CancelAfter(UdpLossTimeout);
                    try
                    {
                        n = await socket.ReceiveAsync(received, SocketFlags.None, timeout.Token);
                        break;
                    }
                    catch (OperationCanceledException) when (!abort.IsCancellationRequested && Phase != Stopping)
                    {
                        // Lost: a fired source cannot be reset, so the (rare) loss gets a new one.
                        timeout.Dispose();
                        timeout = CancellationTokenSource.CreateLinkedTokenSource(abort);
                    }
                }

                timeout.CancelAfter(Timeout.InfiniteTimeSpan);
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
        catch (Exception e)
        {
            Failed(id, k, e);
        }
        finally
        {
            timeout.Dispose();
            MarkReady(ref ready);
        }
    }
}
