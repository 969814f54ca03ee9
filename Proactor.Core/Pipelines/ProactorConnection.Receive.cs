using System;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Pipelines;

public sealed partial class ProactorConnection
{
    private async Task ReceiveLoopAsync()
    {
        Exception? error = null;
        try
        {
            await ProcessReceivesAsync().ConfigureAwait(false);
        }
        catch (SocketException e) when (IsReset(e.SocketErrorCode))
        {
            error = _options.ResetException(e);
        }
        catch (Exception e) when ((e is SocketException s && IsAbort(s.SocketErrorCode)) || e is ObjectDisposedException)
        {
            error = _options.AbortedException(e.Message, e);
        }
        catch (Exception e)
        {
            error = new IOException(e.Message, e);
        }
        finally
        {
            // A connection we shut down reports why (an abort, the end of the send side), not the
            // OperationAborted its pending receive ended with.
            _input.Writer.Complete(_shutdownReason ?? error);

            // ConnectionClosed's callbacks are user code: never on the engine's loop thread.
            ThreadPool.UnsafeQueueUserWorkItem(static c => c.CancelClosed(), this, preferLocal: false);
        }
    }

    private void CancelClosed()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed before the callback ran: nobody can be listening any more.
        }
    }

    private async Task ProcessReceivesAsync()
    {
        PipeWriter input = _input.Writer;
        bool waitForData = _options.WaitForDataBeforeAllocatingBuffer;
        while (true)
        {
            if (waitForData)
            {
                // Holds no buffer while the connection is idle; completes when data or the end arrives.
                await _socket.ReceiveAsync(Memory<byte>.Empty).ConfigureAwait(false);
            }

            Memory<byte> buffer = input.GetMemory(MinimumReceiveSize);
            int received = await _socket.ReceiveAsync(buffer).ConfigureAwait(false);
            if (received == 0)
            {
                return; // the peer's FIN: the input ends without error
            }

            input.Advance(received);
            FlushResult flush = await input.FlushAsync().ConfigureAwait(false);

            // Completed: the application stopped reading. Canceled: the send side ended the connection.
            if (flush.IsCompleted || flush.IsCanceled)
            {
                return;
            }
        }
    }
}
