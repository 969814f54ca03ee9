using System;
using System.Net;
using System.Threading;
using System.Threading.Channels;

namespace Proactor;

/// <summary>
/// The raw completion-queue API: submit operations, then read one <see cref="Completion"/> per
/// operation from <see cref="Reader"/>, in the order the engine finished them (per socket and
/// direction, in submission order). No awaits are involved per operation.
/// </summary>
/// <remarks>
/// Every operation a submit method accepted posts exactly one completion, also when it fails, is
/// cancelled or is aborted by closing its socket. A submit method that throws (bad arguments, a
/// disposed socket) accepted nothing and posts nothing. A buffer handed to a submit method belongs
/// to the engine until its completion has been read.
/// </remarks>
public sealed class CompletionQueue
{
    private readonly Channel<Completion> _channel;

    internal CompletionQueue(ProactorEngine engine, bool singleReader)
    {
        Engine = engine;
        _channel = Channel.CreateUnbounded<Completion>(new UnboundedChannelOptions
        {
            SingleReader = singleReader,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
    }

    /// <summary>The engine whose sockets this queue takes operations for.</summary>
    public ProactorEngine Engine { get; }

    /// <summary>Where completions arrive.</summary>
    public ChannelReader<Completion> Reader => _channel.Reader;

    /// <summary>Submits a receive into <paramref name="buffer"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException">The socket belongs to another engine.</exception>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public void SubmitReceive(ProactorSocket socket, Memory<byte> buffer, object? userToken = null, CancellationToken cancellationToken = default)
    {
        CheckSocket(socket);
        socket.Submit(OperationKind.Receive, buffer, null, this, userToken, cancellationToken);
    }

    /// <summary>Submits a send of every byte of <paramref name="buffer"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException">The socket belongs to another engine.</exception>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public void SubmitSend(ProactorSocket socket, ReadOnlyMemory<byte> buffer, object? userToken = null, CancellationToken cancellationToken = default)
    {
        CheckSocket(socket);
        socket.Submit(OperationKind.Send, System.Runtime.InteropServices.MemoryMarshal.AsMemory(buffer), null, this, userToken, cancellationToken);
    }

    /// <summary>Submits an accept on a listening socket; the completion carries the new connection.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="listener"/> is null.</exception>
    /// <exception cref="ArgumentException">The socket belongs to another engine.</exception>
    /// <exception cref="InvalidOperationException">The socket is not listening.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public void SubmitAccept(ProactorSocket listener, object? userToken = null, CancellationToken cancellationToken = default)
    {
        CheckSocket(listener);
        listener.Submit(OperationKind.Accept, default, null, this, userToken, cancellationToken);
    }

    /// <summary>Submits a connect to <paramref name="remoteEndPoint"/>.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The socket belongs to another engine, or the end point
    /// is not an <see cref="IPEndPoint"/> of the socket's address family.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public void SubmitConnect(ProactorSocket socket, EndPoint remoteEndPoint, object? userToken = null, CancellationToken cancellationToken = default)
    {
        CheckSocket(socket);
        socket.Submit(OperationKind.Connect, default, socket.SerializeRemote(remoteEndPoint), this, userToken, cancellationToken);
    }

    /// <summary>Marks the queue complete: readers see the end once posted completions are read.
    /// Operations still pending are not aborted; close their sockets for that.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    internal void Post(in Completion completion)
    {
        // Unbounded: never fails unless Complete() was called; then the completion has nowhere to go.
        _channel.Writer.TryWrite(completion);
    }

    private void CheckSocket(ProactorSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Engine != Engine)
        {
            throw new ArgumentException("The socket belongs to another engine than this completion queue.", nameof(socket));
        }
    }
}
