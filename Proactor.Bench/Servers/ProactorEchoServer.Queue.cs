using System;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Bench.Servers;

internal sealed partial class ProactorEchoServer
{
    /// <summary>One connection of the completion-queue server: its socket and (while it has data)
    /// its buffer travel as the operations' token, so a completion says by itself what to do next.</summary>
    private sealed class QueueConnection(ProactorSocket socket)
    {
        public ProactorSocket Socket { get; } = socket;

        /// <summary>Rented when a zero-byte receive says data is there; returned after its echo is sent.</summary>
        public byte[]? Buffer { get; set; }

        /// <summary>True while the zero-byte receive (wait for data, no buffer) is the one pending.</summary>
        public bool Waiting { get; set; }

        /// <summary>Waits for data without a buffer.</summary>
        public void Wait(CompletionQueue queue)
        {
            Waiting = true;
            queue.SubmitReceive(Socket, Memory<byte>.Empty, this);
        }

        public void ReturnBuffer()
        {
            if (Buffer is { } b)
            {
                Buffer = null;
                System.Buffers.ArrayPool<byte>.Shared.Return(b);
            }
        }
    }

    private static readonly object s_acceptToken = new();

    /// <summary>
    /// The same echo, written against the raw completion-queue API: accept completion → submit a
    /// receive; receive completion → submit a send of what arrived; send completion → submit the
    /// next receive. One thread drains the engine's queue.
    /// </summary>
    private void StartQueueServer(ProactorEngine engine, ProactorSocket listener)
    {
        CompletionQueue queue = engine.Completions;
        queue.SubmitAccept(listener, s_acceptToken);
        var thread = new Thread(() => DrainAsync(queue, listener).GetAwaiter().GetResult())
        {
            IsBackground = true,
            Name = "echo-completions",
        };
        thread.Start();
    }

    private async Task DrainAsync(CompletionQueue queue, ProactorSocket listener)
    {
        try
        {
            while (await queue.Reader.WaitToReadAsync(_stop.Token))
            {
                while (queue.Reader.TryRead(out Completion c))
                {
                    OnCompletion(queue, listener, c);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnCompletion(CompletionQueue queue, ProactorSocket listener, in Completion c)
    {
        try
        {
            if (ReferenceEquals(c.UserToken, s_acceptToken))
            {
                if (c.IsSuccess && c.AcceptedSocket is { } accepted)
                {
                    accepted.NoDelay = true;
                    new QueueConnection(accepted).Wait(queue);
                }
                else if (_stop.IsCancellationRequested || c.Error == SocketError.OperationAborted)
                {
                    return;
                }

                queue.SubmitAccept(listener, s_acceptToken);
                return;
            }

            var conn = (QueueConnection)c.UserToken!;
            if (!c.IsSuccess)
            {
                conn.ReturnBuffer();
                conn.Socket.Dispose();
            }
            else if (c.Kind == OperationKind.Receive && conn.Waiting)
            {
                // Data (or the end) is there: now a buffer is worth holding.
                conn.Waiting = false;
                conn.Buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(EchoSettings.BufferSize);
                queue.SubmitReceive(conn.Socket, conn.Buffer.AsMemory(0, EchoSettings.BufferSize), conn);
            }
            else if (c.Kind == OperationKind.Receive && c.BytesTransferred == 0)
            {
                conn.ReturnBuffer();
                conn.Socket.Dispose();
            }
            else if (c.Kind == OperationKind.Receive)
            {
                queue.SubmitSend(conn.Socket, conn.Buffer.AsMemory(0, c.BytesTransferred), conn);
            }
            else
            {
                conn.ReturnBuffer();
                conn.Wait(queue);
            }
        }
        catch (ObjectDisposedException)
        {
            // the socket or the listener closed meanwhile
        }
    }
}
