using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Pipelines;

/// <summary>
/// An <see cref="IDuplexPipe"/> over a connected <see cref="ProactorSocket"/>: what the peer sends
/// appears in <see cref="Input"/>, what is written and flushed to <see cref="Output"/> is sent.
/// Usable on its own (any Pipelines protocol code) and the connection of the ASP.NET Core transport.
/// </summary>
/// <remarks>
/// <para>
/// Receives go straight into the pipe's own memory, rented from a pool of pinned blocks (no copy
/// from a socket buffer, as <c>PipeReader.Create(stream)</c> would make). While no data is pending
/// the connection waits with a zero-byte receive, so an idle connection holds no buffer. A flush
/// wakes the send loop on an I/O queue (see <see cref="ProactorConnectionOptions.TransportScheduler"/>)
/// rather than sending on the flushing thread, so what several flushes wrote before it runs
/// (pipelined responses) leaves in one gather send. Both directions apply back-pressure (see <see cref="ProactorConnectionOptions"/>):
/// unread input beyond its pause threshold stops receiving; unsent output beyond its threshold
/// makes the writer's <c>FlushAsync</c> wait. In steady state a read or write cycle allocates nothing.
/// </para>
/// <para>
/// How it ends: the peer's orderly close completes <see cref="Input"/> without error; a reset
/// completes it with an <see cref="System.IO.IOException"/> (inner <see cref="SocketException"/>);
/// after <see cref="Abort"/> or the end of the send side, it completes with the reason the
/// connection was shut down. When the application completes <see cref="Output"/>, what it wrote is
/// sent, then the socket is shut down and closed. <see cref="DisposeAsync"/> completes both of the
/// application's ends and waits for both loops; the connection owns the socket and closes it.
/// </para>
/// </remarks>
public sealed partial class ProactorConnection : IDuplexPipe, IAsyncDisposable
{
    // Half a block: a receive into the rest of a segment is worth it only when that rest is not tiny.
    private const int MinimumReceiveSize = PinnedBlockMemoryPool.BlockSize / 2;

    private static readonly PinnedBlockMemoryPool s_sharedPool = new();

    private readonly ProactorSocket _socket;
    private readonly ProactorConnectionOptions _options;
    private readonly Pipe _input;  // the receive loop writes, the application reads
    private readonly Pipe _output; // the application writes, the send loop reads
    private readonly Lock _shutdownLock = new();
    private readonly CancellationTokenSource _closed = new();
    private volatile Exception? _shutdownReason;
    private bool _socketDisposed; // under _shutdownLock
    private Task? _processing;
    private int _started;
    private int _disposed;

    /// <summary>Wraps a connected <paramref name="socket"/>; the connection owns it from now on.
    /// Call <see cref="Start"/> to begin receiving and sending.</summary>
    /// <param name="socket">A connected socket (accepted, or connected with <c>ConnectAsync</c>).</param>
    /// <param name="options">Pool, thresholds and schedulers; null uses <see cref="ProactorConnectionOptions.Default"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="socket"/> is listening, or the options' thresholds contradict each other.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="socket"/> was disposed.</exception>
    public ProactorConnection(ProactorSocket socket, ProactorConnectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ObjectDisposedException.ThrowIf(socket.IsDisposed, socket);
        if (socket.IsListening)
        {
            throw new ArgumentException("A listening socket carries no connection; wrap a connected socket (one returned by AcceptAsync or connected with ConnectAsync).", nameof(socket));
        }

        options ??= ProactorConnectionOptions.Default;
        options.Validate();
        _socket = socket;
        _options = options;
        MemoryPool = options.MemoryPool ?? s_sharedPool;
        PipeScheduler transportScheduler = options.TransportScheduler ?? IoQueue.NextShared();
        PipeScheduler applicationScheduler = options.ApplicationScheduler ?? socket.Engine.ApplicationWork;
        int segment = MemoryPool.MaxBufferSize is > 0 and < PinnedBlockMemoryPool.BlockSize ? MemoryPool.MaxBufferSize : PinnedBlockMemoryPool.BlockSize;
        _input = new Pipe(new PipeOptions(
            MemoryPool,
            readerScheduler: applicationScheduler,
            writerScheduler: transportScheduler,
            pauseWriterThreshold: options.InputPauseThreshold,
            resumeWriterThreshold: options.InputResumeThreshold,
            minimumSegmentSize: segment,
            useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(
            MemoryPool,
            readerScheduler: transportScheduler,
            writerScheduler: applicationScheduler,
            pauseWriterThreshold: options.OutputPauseThreshold,
            resumeWriterThreshold: options.OutputResumeThreshold,
            minimumSegmentSize: segment,
            useSynchronizationContext: false));
    }

    /// <summary>The socket under the connection (for its end points and options; do no I/O on it).</summary>
    public ProactorSocket Socket => _socket;

    /// <summary>The pool the connection's buffers come from.</summary>
    public MemoryPool<byte> MemoryPool { get; }

    /// <summary>What the peer sent.</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>What to send to the peer: written bytes are sent when flushed.</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>Cancelled (on the thread pool) once the receive side has ended: the peer closed or
    /// reset the connection, or it was aborted or disposed.</summary>
    public CancellationToken ConnectionClosed => _closed.Token;

    /// <summary>Completes when both the receive and the send loop have ended (after <see cref="Start"/>).</summary>
    /// <exception cref="InvalidOperationException">The connection was not started.</exception>
    public Task Completion => _processing ?? throw new InvalidOperationException("The connection was not started; call Start first.");

    /// <summary>Starts the receive and the send loop.</summary>
    /// <exception cref="InvalidOperationException">The connection was already started.</exception>
    /// <exception cref="ObjectDisposedException">The connection was disposed.</exception>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The connection was already started.");
        }

        _processing = RunAsync();
    }

    private async Task RunAsync()
    {
        // Both loops start on this thread and return at their first pending await.
        Task receiving = ReceiveLoopAsync();
        Task sending = SendLoopAsync();
        await receiving.ConfigureAwait(false);
        await sending.ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the connection now: the socket is shut down and closed, unsent output is dropped, and
    /// <see cref="Input"/> completes with an exception built from <paramref name="reason"/>.
    /// Safe to call more than once and from any thread; the first reason wins.
    /// </summary>
    /// <param name="reason">Why; null for a generic "aborted".</param>
    public void Abort(Exception? reason = null)
    {
        Shutdown(reason ?? _options.AbortedException("The connection was aborted.", null));
        _output.Reader.CancelPendingRead(); // the send loop ends instead of sending more
    }

    /// <summary>
    /// Completes the application's ends of both pipes, which ends the connection (what was already
    /// flushed is sent first), waits for both loops to end and closes the socket.
    /// </summary>
    /// <returns>A task that completes when the connection has ended.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _input.Reader.Complete();
        _output.Writer.Complete();
        if (_processing is { } processing)
        {
            await processing.ConfigureAwait(false);
        }
        else
        {
            Shutdown(null); // never started: nothing else would close the socket
            _input.Writer.Complete();
            _output.Reader.Complete();
        }

        _closed.Dispose();
    }

    /// <summary>Shuts the socket down and closes it, once; records why for the input's completion.</summary>
    private void Shutdown(Exception? reason)
    {
        lock (_shutdownLock)
        {
            if (_socketDisposed)
            {
                return;
            }

            _socketDisposed = true;
            _shutdownReason = reason ?? _options.AbortedException("The connection's send side completed gracefully.", null);
            try
            {
                // FIN after whatever the kernel still holds to send, then close: a graceful end
                // unless the peer left unread data with us (then the OS resets, as it should).
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // Already reset or never fully connected: closing is all that is left.
            }

            _socket.Dispose();
        }
    }

    private static bool IsReset(SocketError error) =>
        error is SocketError.ConnectionReset or SocketError.Shutdown
        || (error == SocketError.ConnectionAborted && OperatingSystem.IsWindows());

    private static bool IsAbort(SocketError error) =>
        error is SocketError.OperationAborted or SocketError.Interrupted
        || (error == SocketError.InvalidArgument && !OperatingSystem.IsWindows());
}
