using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor;

/// <summary>
/// A <see cref="Stream"/> over a connected <see cref="ProactorSocket"/>, as
/// <see cref="System.Net.Sockets.NetworkStream"/> is over a <see cref="System.Net.Sockets.Socket"/>:
/// for code written against streams (<see cref="StreamReader"/>, <c>SslStream</c>,
/// <c>PipeReader.Create</c>, <see cref="Stream.CopyToAsync(Stream)"/>).
/// </summary>
/// <remarks>
/// A read is one receive (it returns what arrived, 0 at the end of the stream); a write completes
/// when every byte is written. As with <c>NetworkStream</c>, a socket error surfaces as an
/// <see cref="IOException"/> whose inner exception is the <see cref="System.Net.Sockets.SocketException"/>;
/// a cancelled token still ends a call with <see cref="OperationCanceledException"/>. The asynchronous members allocate nothing per call in steady
/// state. The synchronous ones block the calling thread until the engine completes the
/// operation, so they refuse to run on the engine's own thread (an inline continuation), where
/// blocking would stop the loop that must complete them.
/// </remarks>
public sealed class ProactorStream : Stream
{
    private readonly bool _ownsSocket;
    private int _disposed;

    /// <summary>Wraps <paramref name="socket"/>; disposing the stream disposes the socket only when
    /// <paramref name="ownsSocket"/> is true.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="socket"/> is a listener.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="socket"/> is disposed.</exception>
    public ProactorStream(ProactorSocket socket, bool ownsSocket = false)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ObjectDisposedException.ThrowIf(socket.IsDisposed, typeof(ProactorSocket));
        if (socket.IsListening)
        {
            throw new ArgumentException("A listening socket carries no stream; wrap a connected socket (one returned by AcceptAsync or connected with ConnectAsync).", nameof(socket));
        }

        Socket = socket;
        _ownsSocket = ownsSocket;
    }

    /// <summary>The socket the stream reads from and writes to.</summary>
    public ProactorSocket Socket { get; }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <inheritdoc/>
    public override bool CanRead => !IsDisposed;

    /// <inheritdoc/>
    public override bool CanWrite => !IsDisposed;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException("A socket stream has no length.");

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException("A socket stream has no position.");
        set => throw new NotSupportedException("A socket stream has no position.");
    }

    /// <inheritdoc/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return Socket.ReceiveForStreamAsync(buffer, cancellationToken);
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc/>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return Socket.SendForStreamAsync(buffer, cancellationToken);
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        ThrowIfOnEngineThread();
        return ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        ThrowIfOnEngineThread();
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Nothing is buffered: every write is on its way when it completes.</summary>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : Task.CompletedTask;

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A socket stream cannot seek.");

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException("A socket stream has no length.");

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && disposing && _ownsSocket)
        {
            Socket.Dispose();
        }

        base.Dispose(disposing);
    }

    private void ThrowIfOnEngineThread()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (Socket.Engine.IsEngineThread)
        {
            throw new InvalidOperationException(
                "A blocking Read or Write on the engine's own thread would stop the loop that completes it; use ReadAsync/WriteAsync in an inline continuation.");
        }
    }
}
