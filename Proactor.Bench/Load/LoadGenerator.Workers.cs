using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace Proactor.Bench.Load;

internal sealed partial class LoadGenerator
{
    /// <summary>One message in flight: send, receive exactly its length, compare, repeat.</summary>
    private async Task PingPongAsync(ProactorSocket socket, int id)
    {
        int size = _request.MessageSize;
        byte[] received = new byte[size];
        CancellationToken abort = _abort.Token;
        long k = 0;
        bool ready = false;
        try
        {
            while (Phase != Stopping)
            {
                ReadOnlyMemory<byte> message = _payload.Message(id, k);
                long start = Stopwatch.GetTimestamp();
                await SendAllAsync(socket, message, abort);
                await ReceiveEchoAsync(socket, received, message, id, k, churn: false, abort);

                Completed(start, Stopwatch.GetTimestamp(), size);
                MarkReady(ref ready);
                k++;
            }
        }
        catch (Exception e)
        {
            Failed(id, k, e);
        }
        finally
        {
            MarkReady(ref ready);
        }
    }

    /// <summary>
    /// Several messages in flight (and streaming): a sender that waits for a credit before each
    /// message and a receiver that checks the echoed stream and returns a credit per message, so
    /// neither side's socket buffers can fill up and deadlock. When the window ends the sender
    /// shuts down its direction; the server's close after the echo ends the receiver.
    /// </summary>
    private async Task PipelinedAsync(ProactorSocket socket, int id)
    {
        int size = _request.MessageSize;
        int depth = _request.InFlight;
        long[] sentAt = new long[depth];
        // The receiver returns a credit per echoed message. Continuations run synchronously, so the
        // sender's next send starts on the loop thread that completed the receive: a semaphore's
        // waiter resumed on the thread pool, a hop per message that shared the load generator's one
        // CPU with its loop.
        Channel<bool> credits = Channel.CreateUnbounded<bool>(
            new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });
        for (int i = 0; i < depth; i++)
        {
            credits.Writer.TryWrite(true);
        }

        // Ends this connection's sender when its receiver fails, without touching the others.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
        CancellationToken abort = stop.Token;
        // The sender waits for credits without a token: a channel allocates a new waiter for every
        // wait that can be cancelled (one per message here), but reuses one for a wait that cannot.
        // A stop completes the channel instead, which ends the wait just as well.
        using CancellationTokenRegistration endCredits = abort.UnsafeRegister(static c => ((Channel<bool>)c!).Writer.TryComplete(), credits);
        long sent = 0;

        async Task SendAsync()
        {
            try
            {
                while (Phase != Stopping)
                {
                    await credits.Reader.ReadAsync();
                    if (Phase == Stopping)
                    {
                        break;
                    }

                    sentAt[sent % depth] = Stopwatch.GetTimestamp();
                    await SendAllAsync(socket, _payload.Message(id, sent), abort);
                    Interlocked.Increment(ref sent);
                }

                socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException or ObjectDisposedException or SocketException)
            {
                // the receiver reports what was lost
            }
        }

        Task sender = Task.Run(SendAsync);
        byte[] buffer = new byte[Math.Clamp(size, 4096, 64 * 1024)];
        long k = 0;
        int offset = 0; // within message k
        bool ready = false;
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, abort);
                if (n == 0)
                {
                    await sender.WaitAsync(abort);
                    long total = Interlocked.Read(ref sent);
                    if (k != total || offset != 0)
                    {
                        throw new LoadException(
                            $"connection {id}: the server closed after echoing {k} of {total} messages (+{offset} bytes): data lost");
                    }

                    return;
                }

                // The payload is deterministic, so bytes of a message whose send is still in
                // progress are checked against what that send will carry.
                int pos = 0;
                while (pos < n)
                {
                    ReadOnlySpan<byte> expected = _payload.Message(id, k).Span[offset..];
                    int take = Math.Min(expected.Length, n - pos);
                    Verify(buffer.AsSpan(pos, take), expected[..take], id, k, offset);
                    pos += take;
                    offset += take;
                    if (offset == size)
                    {
                        Completed(sentAt[k % depth], Stopwatch.GetTimestamp(), size);
                        MarkReady(ref ready);
                        k++;
                        offset = 0;
                        credits.Writer.TryWrite(true);
                    }
                }
            }
        }
        catch (Exception e)
        {
            Failed(id, k, e);
            stop.Cancel();
            Close(socket); // unblocks a sender waiting on the socket
            await sender; // it swallows its own errors
        }
        finally
        {
            MarkReady(ref ready);
        }
    }

    /// <summary>Connect, one echo, orderly close (the client shuts down its side, the server closes,
    /// the client sees the end), again. The server closes first, so the client's ports do not pile
    /// up in TIME_WAIT.</summary>
    private async Task ChurnAsync(int slot)
    {
        int size = _request.MessageSize;
        byte[] received = new byte[size];
        CancellationToken abort = _abort.Token;
        long k = 0;
        bool ready = false;
        try
        {
            while (Phase != Stopping)
            {
                long start = Stopwatch.GetTimestamp();
                ProactorSocket socket = await ConnectAsync(abort);
                try
                {
                    ReadOnlyMemory<byte> message = _payload.Message(slot, k);
                    await SendAllAsync(socket, message, abort);
                    await ReceiveEchoAsync(socket, received, message, slot, k, churn: true, abort);

                    socket.Shutdown(SocketShutdown.Send);
                    if (await socket.ReceiveAsync(received, abort) != 0)
                    {
                        throw new LoadException($"churn {slot}: the server sent bytes after the echo of connection {k}");
                    }
                }
                finally
                {
                    Close(socket);
                }

                Completed(start, Stopwatch.GetTimestamp(), size);
                MarkReady(ref ready);
                k++;
            }
        }
        catch (Exception e)
        {
            Failed(slot, k, e);
        }
        finally
        {
            MarkReady(ref ready);
        }
    }

    /// <summary>Receives the echo of <paramref name="message"/> into <paramref name="received"/>,
    /// verifying every byte as it arrives; an early end fails the run (the message is formatted only then).</summary>
    /// <remarks>Pooled: a receive that waits for the server (nearly every one) would otherwise
    /// allocate a state machine box per round trip, and collecting them would be more work for the
    /// load generator's one core, which sets the pace for the fastest servers.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReceiveEchoAsync(ProactorSocket socket, byte[] received, ReadOnlyMemory<byte> message, int id, long k, bool churn, CancellationToken abort)
    {
        int size = message.Length;
        int got = 0;
        while (got < size)
        {
            int n = await socket.ReceiveAsync(received.AsMemory(got, size - got), abort);
            if (n == 0)
            {
                throw new LoadException(churn
                    ? $"churn {id}: the server closed connection {k} after {got} of {size} bytes"
                    : $"connection {id}: the server closed the connection at message {k} after {got} of {size} bytes");
            }

            Verify(received.AsSpan(got, n), message.Span.Slice(got, n), id, k, got);
            got += n;
        }
    }
}
