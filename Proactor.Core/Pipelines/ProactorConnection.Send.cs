using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
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
    /// Sends every byte of <paramref name="buffer"/>: the one place a flushed sequence reaches the
    /// socket, as one gather send (sendmsg / WSASend with a buffer per segment), so a response
    /// written in several pieces costs one syscall, not one per segment.
    /// </summary>
    private ValueTask SendSequenceAsync(in ReadOnlySequence<byte> buffer) =>
        _socket.SendSequenceAsync(buffer, CancellationToken.None);
}
