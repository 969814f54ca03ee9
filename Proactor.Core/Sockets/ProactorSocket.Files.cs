using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;

namespace Proactor;

public sealed partial class ProactorSocket
{
    private const int FileChunkLength = 64 * 1024;

    /// <summary>Sends the whole content of the file at <paramref name="path"/>.</summary>
    /// <param name="path">The file to send.</param>
    /// <param name="cancellationToken">Ends the transfer (an unknown prefix may have been sent).</param>
    /// <returns>The number of bytes sent: the file's length.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist (thrown at once).</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be read.</exception>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">A send failed (completes the returned task).</exception>
    public ValueTask<long> SendFileAsync(string path, CancellationToken cancellationToken = default) =>
        SendFileAsync(path, 0, -1, cancellationToken);

    /// <summary>Sends <paramref name="count"/> bytes of the file at <paramref name="path"/> from <paramref name="offset"/>.</summary>
    /// <param name="path">The file to send.</param>
    /// <param name="offset">Where to start in the file.</param>
    /// <param name="count">How many bytes to send; -1 for everything from <paramref name="offset"/> to the end.</param>
    /// <param name="cancellationToken">Ends the transfer (an unknown prefix may have been sent).</param>
    /// <returns>The number of bytes sent.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> or <paramref name="count"/> is
    /// negative (other than -1 for the count), or the range lies beyond the end of the file.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist (thrown at once).</exception>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">A send failed (completes the returned task).</exception>
    public ValueTask<long> SendFileAsync(string path, long offset, long count, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ValidateFileRange(offset, count);
        ValidateAwaitable(OperationKind.Send);
        SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        try
        {
            ResolveFileRange(file, offset, ref count);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return new ValueTask<long>(SendFileCoreAsync(file, offset, count, ownsFile: true, cancellationToken));
    }

    /// <summary>Sends <paramref name="count"/> bytes of an open file from <paramref name="offset"/>.</summary>
    /// <param name="file">A readable, seekable file; it stays the caller's (it is not closed).</param>
    /// <param name="offset">Where to start in the file (the file's own position is neither used nor moved).</param>
    /// <param name="count">How many bytes to send; -1 for everything from <paramref name="offset"/> to the end.</param>
    /// <param name="cancellationToken">Ends the transfer (an unknown prefix may have been sent).</param>
    /// <returns>The number of bytes sent.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="file"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="file"/> is invalid or not seekable.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> or <paramref name="count"/> is
    /// negative (other than -1 for the count), or the range lies beyond the end of the file.</exception>
    /// <exception cref="ObjectDisposedException">The file was closed, or the socket disposed.</exception>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">A send failed (completes the returned task).</exception>
    public ValueTask<long> SendFileAsync(SafeFileHandle file, long offset, long count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ObjectDisposedException.ThrowIf(file.IsClosed, typeof(SafeFileHandle));
        if (file.IsInvalid)
        {
            throw new ArgumentException("The file handle is invalid.", nameof(file));
        }

        ValidateFileRange(offset, count);
        ValidateAwaitable(OperationKind.Send);
        ResolveFileRange(file, offset, ref count);
        return new ValueTask<long>(SendFileCoreAsync(file, offset, count, ownsFile: false, cancellationToken));
    }

    private static void ValidateFileRange(long offset, long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (count < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The count must be zero or more, or -1 for the rest of the file.");
        }
    }

    private static void ResolveFileRange(SafeFileHandle file, long offset, ref long count)
    {
        long length;
        try
        {
            length = RandomAccess.GetLength(file);
        }
        catch (NotSupportedException e)
        {
            throw new ArgumentException("The file is not seekable (a pipe or a socket?): only regular files can be sent.", nameof(file), e);
        }

        if (offset > length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"The offset lies beyond the end of the {length}-byte file.");
        }

        if (count == -1)
        {
            count = length - offset;
        }
        else if (count > length - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count,
                $"Offset {offset} plus count {count} exceeds the {length}-byte file.");
        }
    }

    // Where the backend can (EngineSocket.SupportsFileSend: sendfile on the emulated engines), the
    // kernel copies the file to the socket as one send operation per range of at most
    // MaxFileBytesPerOperation: it queues in the send FIFO like any send, so sends submitted before
    // and after this call keep their order around it. What the kernel did not send (it refused the
    // file or socket type, or the file shrank) goes by reading the file and sending the bytes, the
    // path of every other backend, with the same ordering, cancellation and close rules per chunk.
    private async Task<long> SendFileCoreAsync(SafeFileHandle file, long offset, long count, bool ownsFile, CancellationToken cancellationToken)
    {
        long sent = 0;
        try
        {
            if (_engineSocket.SupportsFileSend)
            {
                while (sent < count)
                {
                    int want = (int)Math.Min(count - sent, MaxFileBytesPerOperation);
                    int moved = await SendFileRangeAsync(file, offset + sent, want, cancellationToken).ConfigureAwait(false);
                    sent += moved;
                    if (moved < want)
                    {
                        break;
                    }
                }
            }

            if (sent < count)
            {
                sent += await ReadAndSendAsync(file, offset + sent, count - sent, cancellationToken).ConfigureAwait(false);
            }

            return sent;
        }
        finally
        {
            // Every operation that held the file has completed before this.
            if (ownsFile)
            {
                file.Dispose();
            }
        }
    }

    /// <summary>sendfile(2) caps one call near 2 GiB and an operation counts bytes in an int: a larger
    /// range goes as several operations (a send submitted meanwhile may then come between them).</summary>
    private const int MaxFileBytesPerOperation = 0x7FFFF000;

    private ValueTask<int> SendFileRangeAsync(SafeFileHandle file, long offset, int count, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        Operation op = Rent(OperationKind.Send);
        op.Prepare(OperationKind.Send, this, default, null, null, null);
        op.SetFile(file, offset, count);
        return StartPrepared(op, cancellationToken);
    }

    private async Task<long> ReadAndSendAsync(SafeFileHandle file, long offset, long count, CancellationToken cancellationToken)
    {
        byte[] chunk = ArrayPool<byte>.Shared.Rent((int)Math.Min(FileChunkLength, Math.Max(count, 1)));
        long sent = 0;
        try
        {
            while (sent < count)
            {
                int want = (int)Math.Min(chunk.Length, count - sent);
                int read = await RandomAccess.ReadAsync(file, chunk.AsMemory(0, want), offset + sent, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException($"The file ended after {offset + sent} bytes, with {count - sent} bytes of the range still to send (was it truncated?).");
                }

                await SendAsync(chunk.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                sent += read;
            }

            return sent;
        }
        finally
        {
            // The send completed (or failed) before this: no operation holds the chunk any more.
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
