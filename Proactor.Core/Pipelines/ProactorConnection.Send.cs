using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

namespace Proactor.Pipelines;

public sealed partial class ProactorConnection
{
    private async Task SendLoopAsync()
    {
        Exception? shutdownReason = null;
        Exception? unexpected = null;
        try
        {
            await ProcessSendsAsync().ConfigureAwait(false);
        }
        catch (SocketException e) when (IsReset(e.SocketErrorCode))
        {
            shutdownReason = _options.ResetException(e);
        }
        catch (Exception e) when ((e is SocketException s && IsAbort(s.SocketErrorCode)) || e is ObjectDisposedException)
        {
            shutdownReason = e;
        }
        catch (Exception e)
        {
            shutdownReason = e;
            unexpected = e;
        }
        finally
        {
            Shutdown(shutdownReason);
            _output.Reader.Complete(unexpected);

            // A receive loop paused by back-pressure would otherwise wait for a reader that may
            // never read again; the socket is closed, so its pending receive ends too.
            _input.Writer.CancelPendingFlush();
        }
    }

    private async Task ProcessSendsAsync()
    {
        PipeReader output = _output.Reader;
        while (true)
        {
            ReadResult result = await output.ReadAsync().ConfigureAwait(false);
            if (result.IsCanceled)
            {
                return; // Abort: drop what is unsent
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (!buffer.IsEmpty)
            {
                await SendSequenceAsync(buffer).ConfigureAwait(false);
            }

            output.AdvanceTo(buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Sends every byte of <paramref name="buffer"/>. The one place a flushed sequence reaches the
    /// socket: a gather send (one sendmsg / WSASend for all segments) belongs here when the socket
    /// offers one. Until then, one send per segment; a single-segment flush (the common case) is one send.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // no box per pending send
    private async ValueTask SendSequenceAsync(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            await _socket.SendAsync(buffer.First).ConfigureAwait(false);
            return;
        }

        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            if (!segment.IsEmpty)
            {
                await _socket.SendAsync(segment).ConfigureAwait(false);
            }
        }
    }
}
