using System;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Bench.Servers;

internal sealed partial class ProactorEchoServer
{
    /// <summary>One connection of the completion-queue server: its socket and buffer travel as the
    /// operations' token, so a completion says by itself what to do next.</summary>
    private sealed class QueueConnection(ProactorSocket socket)
    {
        public ProactorSocket Socket { get; } = socket;

        public byte[] Buffer { get; } = new byte[EchoSettings.BufferSize];
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
                    var connection = new QueueConnection(accepted);
                    queue.SubmitReceive(accepted, connection.Buffer, connection);
                }
                else if (_stop.IsCancellationRequested || c.Error == SocketError.OperationAborted)
                {
                    return;
                }

                queue.SubmitAccept(listener, s_acceptToken);
                return;
            }

            var conn = (QueueConnection)c.UserToken!;
            if (!c.IsSuccess || (c.Kind == OperationKind.Receive && c.BytesTransferred == 0))
            {
                conn.Socket.Dispose();
            }
            else if (c.Kind == OperationKind.Receive)
            {
                queue.SubmitSend(conn.Socket, conn.Buffer.AsMemory(0, c.BytesTransferred), conn);
            }
            else
            {
                queue.SubmitReceive(conn.Socket, conn.Buffer, conn);
            }
        }
        catch (ObjectDisposedException)
        {
            // the socket or the listener closed meanwhile
        }
    }
}
