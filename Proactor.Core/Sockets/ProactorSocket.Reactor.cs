using System;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor;

public sealed partial class ProactorSocket
{
    /// <summary>
    /// Waits until the socket is ready for <paramref name="events"/> (the Reactor's readiness, as an
    /// await): completes with what is ready, which may add <see cref="SocketEvents.HangUp"/> and
    /// <see cref="SocketEvents.Error"/>. Moves no bytes and holds no buffer: follow it with
    /// <see cref="TryReceive"/>/<see cref="TrySend"/> (or any operation).
    /// </summary>
    /// <remarks>
    /// The wait is level-triggered on every backend: a socket already ready completes it at once.
    /// It queues with the socket's other operations of its direction (a readable wait behind
    /// pending receives), so per-direction order holds. It completes exactly once: with the events,
    /// with <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> ends
    /// it, or with a <see cref="SocketException"/> of <see cref="SocketError.OperationAborted"/> when
    /// the socket is closed meanwhile.
    /// </remarks>
    /// <param name="events"><see cref="SocketEvents.Readable"/> or <see cref="SocketEvents.Writable"/>
    /// (one direction; HangUp and Error are always reported and may be added).</param>
    /// <param name="cancellationToken">Ends the wait early.</param>
    /// <returns>The events that are ready.</returns>
    /// <exception cref="ArgumentException"><paramref name="events"/> names both or neither direction.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="events"/> has undefined bits.</exception>
    /// <exception cref="PlatformNotSupportedException">The backend offers no readiness (see docs/reactor.md).</exception>
    /// <exception cref="InvalidOperationException">The engine uses <see cref="CompletionDispatch.Queue"/>.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public ValueTask<SocketEvents> WaitAsync(SocketEvents events, CancellationToken cancellationToken = default)
    {
        ValidateEvents(events, nameof(events));
        if ((events & SocketEvents.Readable) != 0 && (events & SocketEvents.Writable) != 0)
        {
            throw new ArgumentException(
                "WaitAsync waits for one direction: pass Readable or Writable (register an IReactorHandler to hear of both).",
                nameof(events));
        }

        ThrowIfDisposed();
        ThrowIfNoReadiness();
        if (Engine.Dispatch == CompletionDispatch.Queue)
        {
            throw new InvalidOperationException(
                "The engine uses CompletionDispatch.Queue, which has no awaitable continuations: register an IReactorHandler instead.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<SocketEvents>(cancellationToken);
        }

        Operation op = Rent(OperationKind.Poll);
        op.Prepare(OperationKind.Poll, this, default, null, null, null);
        op.RequestedEvents = events | SocketEvents.HangUp | SocketEvents.Error;
        op.WaitForNextReport = false;
        if (!_engineSocket.Start(op))
        {
            SocketEvents ready = (SocketEvents)op.BytesTransferred;
            Exception? exception = op.Error == SocketError.Success ? null : op.CreateException();
            op.Release();
            return exception is null ? new ValueTask<SocketEvents>(ready) : ValueTask.FromException<SocketEvents>(exception);
        }

        op.RegisterCancellation(cancellationToken);
        return new ValueTask<SocketEvents>(op, op.Version);
    }

    /// <summary>
    /// One non-blocking receive into <paramref name="buffer"/>: returns false at once when no data
    /// waits (<paramref name="error"/> is <see cref="SocketError.WouldBlock"/>) instead of waiting.
    /// For a Reactor handler, or after <see cref="WaitAsync"/>.
    /// </summary>
    /// <remarks>
    /// Do not mix it with a pending <see cref="ReceiveAsync(Memory{byte}, CancellationToken)"/> on the
    /// same socket: it takes whatever bytes are there, ahead of the queued receive. Errors are
    /// returned, not thrown, as a handler on the loop thread wants them.
    /// </remarks>
    /// <param name="buffer">Where the bytes go.</param>
    /// <param name="bytesReceived">Bytes received; 0 with <see cref="SocketError.Success"/> when the
    /// peer closed its side.</param>
    /// <param name="error"><see cref="SocketError.Success"/>, <see cref="SocketError.WouldBlock"/>,
    /// or the error that ended the connection.</param>
    /// <returns>True when the call finished (bytes, end of stream or an error); false when it would block.</returns>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="PlatformNotSupportedException">The backend offers no readiness (see docs/reactor.md).</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public bool TryReceive(Span<byte> buffer, out int bytesReceived, out SocketError error)
    {
        ThrowIfDisposed();
        ThrowIfNoReadiness();
        ThrowIfListening("TryReceive");
        if (!_engineSocket.TryReceive(buffer, out bytesReceived, out error))
        {
            bytesReceived = 0;
            error = SocketError.WouldBlock;
            return false;
        }

        return true;
    }

    /// <summary>
    /// One non-blocking send: hands the OS as much of <paramref name="buffer"/> as fits now and
    /// returns false at once when nothing fits (<paramref name="error"/> is
    /// <see cref="SocketError.WouldBlock"/>): wait for <see cref="SocketEvents.Writable"/> and send the rest.
    /// </summary>
    /// <remarks>Do not mix it with a pending <see cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
    /// on the same socket: its bytes could land between the pieces of the queued send.</remarks>
    /// <param name="buffer">The bytes to send.</param>
    /// <param name="bytesSent">Bytes the OS took, possibly fewer than <paramref name="buffer"/> holds.</param>
    /// <param name="error"><see cref="SocketError.Success"/>, <see cref="SocketError.WouldBlock"/>,
    /// or the error that ended the connection.</param>
    /// <returns>True when the call finished (some bytes sent, or an error); false when it would block.</returns>
    /// <exception cref="InvalidOperationException">The socket is listening.</exception>
    /// <exception cref="PlatformNotSupportedException">The backend offers no readiness (see docs/reactor.md).</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public bool TrySend(ReadOnlySpan<byte> buffer, out int bytesSent, out SocketError error)
    {
        ThrowIfDisposed();
        ThrowIfNoReadiness();
        ThrowIfListening("TrySend");
        if (!_engineSocket.TrySend(buffer, out bytesSent, out error))
        {
            bytesSent = 0;
            error = SocketError.WouldBlock;
            return false;
        }

        return true;
    }

    /// <summary>
    /// Registers <paramref name="handler"/> (the Reactor's concrete event handler) for
    /// <paramref name="events"/>: the engine's loop calls it, on its own thread, whenever the socket
    /// is ready, until the returned registration is disposed or the socket is closed.
    /// </summary>
    /// <remarks>
    /// Edge- or level-triggered as the engine's demultiplexer is: on <c>epoll-et</c> a handler that
    /// does not drain the socket is told again only when new data (a new edge) arrives; on the
    /// level-triggered sources (<c>epoll-lt</c>, poll, select, io_uring's one-shot poll) it is told
    /// again on the loop's next turn. docs/reactor.md has the table. One registration per socket at
    /// a time.
    /// </remarks>
    /// <param name="handler">Called on the engine's loop thread.</param>
    /// <param name="events"><see cref="SocketEvents.Readable"/>, <see cref="SocketEvents.Writable"/>
    /// or both (HangUp and Error are always reported with them).</param>
    /// <returns>The registration: change its events, or dispose it to deregister.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="events"/> names no direction.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="events"/> has undefined bits.</exception>
    /// <exception cref="InvalidOperationException">The socket already has a registered handler.</exception>
    /// <exception cref="PlatformNotSupportedException">The backend offers no readiness (see docs/reactor.md).</exception>
    /// <exception cref="ObjectDisposedException">The socket or its engine was disposed.</exception>
    public ReactorRegistration RegisterHandler(IReactorHandler handler, SocketEvents events)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ValidateEvents(events, nameof(events));
        ThrowIfDisposed();
        Engine.ThrowIfDisposed(); // its loop is gone: nothing would ever be reported
        ThrowIfNoReadiness();
        var registration = new ReactorRegistration(this, handler, events);
        if (Interlocked.CompareExchange(ref Rare.Reactor, registration, null) is not null)
        {
            throw new InvalidOperationException(
                "The socket already has a registered handler: dispose that registration first, or change its events.");
        }

        if (IsDisposed)
        {
            // Closed meanwhile: the close may not have seen the registration; it never starts.
            registration.OnSocketClosing();
            ThrowIfDisposed();
        }

        registration.Start();
        return registration;
    }

    /// <summary>Called by a registration when it is disposed: the socket may take a new one.</summary>
    internal void OnReactorDeregistered(ReactorRegistration registration) =>
        Interlocked.CompareExchange(ref Rare.Reactor, null, registration);

    /// <summary>Called first by <see cref="Dispose"/>: no handler call starts after close begins.</summary>
    private void CloseReactor()
    {
        if (Volatile.Read(ref _rare) is { } rare)
        {
            Volatile.Read(ref rare.Reactor)?.OnSocketClosing();
        }
    }

    internal static void ValidateEvents(SocketEvents events, string paramName)
    {
        const SocketEvents All = SocketEvents.Readable | SocketEvents.Writable | SocketEvents.HangUp | SocketEvents.Error;
        if ((events & ~All) != 0)
        {
            throw new ArgumentOutOfRangeException(paramName, events, "Only Readable, Writable, HangUp and Error are defined.");
        }

        if ((events & (SocketEvents.Readable | SocketEvents.Writable)) == 0)
        {
            throw new ArgumentException(
                $"{events} names no direction: include Readable or Writable (HangUp and Error are reported with them).",
                paramName);
        }
    }

    private void ThrowIfNoReadiness()
    {
        if (_engineSocket.ReadinessUnsupportedReason is { } reason)
        {
            throw new PlatformNotSupportedException(reason);
        }
    }

    private void ThrowIfListening(string method)
    {
        if (_listening)
        {
            throw new InvalidOperationException($"{method} is not possible on a listening socket; wait for Readable and accept.");
        }
    }
}
