using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace Proactor;

/// <summary>
/// A listening endpoint of an engine group. <see cref="AcceptAsync"/> returns connections that
/// already live on the loop the group chose for them.
/// </summary>
/// <remarks>
/// <para>
/// A group listener keeps accepting until it is disposed: an accept that fails for a reason that
/// does not end the listener (out of descriptors: <see cref="SocketError.TooManyOpenSockets"/>,
/// EMFILE/ENFILE; out of buffers: <see cref="SocketError.NoBufferSpaceAvailable"/>; a connection
/// reset or aborted while it waited in the backlog; any other error while the listening socket
/// stays open) is counted in <see cref="AcceptErrorCount"/> and in the <c>proactor.accept.errors</c>
/// metric, reported through <see cref="EngineOptions.Warning"/> (rate-limited), and retried.
/// A connection reset in the backlog is retried at once (the next connection is unaffected);
/// every other error is retried after a back-off on the engine's own timer, from 10 ms doubling up
/// to 100 ms while the error lasts, so a listener out of descriptors neither spins nor gives up.
/// Connections arriving meanwhile wait in the kernel's backlog and are accepted once the error
/// clears. Only <see cref="Dispose"/> (or the disposal of the group's engines) ends accepting.
/// </para>
/// <para>
/// With <see cref="AcceptDistribution.ReusePort"/>, each loop accepts on its own listener into a
/// queue that <see cref="AcceptAsync"/> reads. The queue holds at most
/// <see cref="AcceptedQueueLimit"/> connections: when it is full, the loops stop accepting
/// (back-pressure) and the kernel's backlog holds the rest, so a server that accepts slowly never
/// piles up accepted connections without bound. Each loop may hold one more connection while it
/// waits for room.
/// </para>
/// </remarks>
public sealed class GroupListener : IDisposable, IAsyncDisposable
{
    /// <summary>The most accepted connections a <see cref="AcceptDistribution.ReusePort"/> listener
    /// keeps ready for <see cref="AcceptAsync"/>; beyond it the kernel's backlog holds them.</summary>
    public const int AcceptedQueueLimit = 64;

    private const int FirstBackOffMilliseconds = 10;
    private const int MaxBackOffMilliseconds = 100;

    private readonly ProactorSocket[] _sockets;
    private readonly Channel<ProactorSocket>? _accepted; // ReusePort: the per-loop accept loops feed it
    private readonly CancellationTokenSource _disposal = new();
    private readonly CancellationToken _disposalToken; // read once: the source is disposed with the listener

    // Taken when the listener is created, not at the first error: the first report may come when
    // the process is out of descriptors, and creating the meter then would need to load an assembly.
    private readonly Counter<long> _acceptErrors = ProactorMetrics.AcceptErrors;
    private int _backOffMilliseconds = FirstBackOffMilliseconds; // the distributing listener's back-off
    private long _acceptErrorCount;
    private int _runningLoops;
    private int _disposed;

    private GroupListener(ProactorSocket[] sockets, Channel<ProactorSocket>? accepted)
    {
        _sockets = sockets;
        _accepted = accepted;
        _disposalToken = _disposal.Token;
        LocalEndPoint = (IPEndPoint)sockets[0].LocalEndPoint!;
    }

    /// <summary>The bound address (with the port the OS chose, for port 0).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The listening sockets: one on the main loop, or one per loop with ReusePort.</summary>
    public IReadOnlyList<ProactorSocket> Sockets => _sockets;

    /// <summary>Accepts that failed and were retried since the listener was created (see the remarks).</summary>
    public long AcceptErrorCount => Interlocked.Read(ref _acceptErrorCount);

    /// <summary>Test seam: asked before each accept; an error other than Success fails that accept
    /// as the OS would, so the retry path runs on every backend without exhausting the process.</summary>
    internal Func<SocketError>? AcceptFault { get; set; }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    internal static GroupListener Distributing(ProactorEngineGroup group, IPEndPoint endPoint, int backlog, Func<ProactorEngine> choose)
    {
        ProactorSocket listener = ProactorSocket.CreateListener(group.Engines[0], endPoint, backlog);
        listener.AcceptedEngineSelector = choose;
        return new GroupListener(new[] { listener }, null);
    }

    internal static GroupListener PerLoop(ProactorEngineGroup group, IPEndPoint endPoint, int backlog)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException(
                "AcceptDistribution.ReusePort needs SO_REUSEPORT load balancing, which only Linux has; use RoundRobin or LeastLoaded.");
        }

        var sockets = new List<ProactorSocket>();
        try
        {
            IPEndPoint bindTo = endPoint;
            foreach (ProactorEngine engine in group.Engines)
            {
                var socket = new ProactorSocket(engine, bindTo.AddressFamily);
                sockets.Add(socket);

                // SOL_SOCKET (1) / SO_REUSEPORT (15) on Linux: every listener on the port gets a share.
                socket.SetRawSocketOption(1, 15, BitConverter.GetBytes(1));
                socket.Bind(bindTo);
                socket.Listen(backlog);
                bindTo = (IPEndPoint)socket.LocalEndPoint!; // the next ones join the chosen port
            }
        }
        catch
        {
            foreach (ProactorSocket s in sockets)
            {
                s.Dispose();
            }

            throw;
        }

        var channel = Channel.CreateBounded<ProactorSocket>(new BoundedChannelOptions(AcceptedQueueLimit)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = false,
            SingleReader = false,
        });
        var listener = new GroupListener(sockets.ToArray(), channel);
        listener._runningLoops = sockets.Count;
        foreach (ProactorSocket socket in sockets)
        {
            _ = listener.AcceptLoopAsync(socket, channel.Writer);
        }

        return listener;
    }

    private async Task AcceptLoopAsync(ProactorSocket listener, ChannelWriter<ProactorSocket> writer)
    {
        Exception? failure = null;
        int backOff = FirstBackOffMilliseconds;
        try
        {
            // Room first, then accept: while the queue is full the connection stays in the kernel's
            // backlog rather than in memory here. Dispose completes the channel, which ends the wait.
            while (await writer.WaitToWriteAsync().ConfigureAwait(false))
            {
                ProactorSocket connection;
                try
                {
                    connection = await AcceptOnceAsync(listener, default).ConfigureAwait(false);
                }
                catch (SocketException e) when (!IsDisposed)
                {
                    TimeSpan wait = OnAcceptError(listener, e.SocketErrorCode, ref backOff);
                    if (wait > TimeSpan.Zero)
                    {
                        await listener.Engine.Delay(wait, _disposalToken).ConfigureAwait(false);
                    }

                    continue;
                }

                backOff = FirstBackOffMilliseconds;
                if (!writer.TryWrite(connection))
                {
                    // Another loop took the last room meanwhile, or the listener was disposed.
                    try
                    {
                        await writer.WriteAsync(connection).ConfigureAwait(false);
                    }
                    catch
                    {
                        connection.Dispose();
                        throw;
                    }
                }
            }
        }
        catch (Exception e) when (IsDisposed && e is OperationCanceledException or ObjectDisposedException or ChannelClosedException or SocketException)
        {
            // Disposal ends the loop: nothing to report.
        }
        catch (ObjectDisposedException e)
        {
            // The engine (or this loop's listening socket) was disposed under the listener.
            failure = e;
        }
        catch (Exception e)
        {
            failure = e; // a bug: surface it to the accepting callers rather than lose it
        }

        if (Interlocked.Decrement(ref _runningLoops) == 0 && failure is not null)
        {
            writer.TryComplete(failure);
        }
    }

    private ValueTask<ProactorSocket> AcceptOnceAsync(ProactorSocket listener, CancellationToken cancellationToken) =>
        AcceptFault?.Invoke() is { } fault && fault != SocketError.Success
            ? ValueTask.FromException<ProactorSocket>(new SocketException((int)fault))
            : listener.AcceptAsync(cancellationToken);

    /// <summary>Counts and reports one retried accept error; returns how long to wait before the
    /// next accept (zero: at once) and advances <paramref name="backOff"/>.</summary>
    private TimeSpan OnAcceptError(ProactorSocket listener, SocketError error, ref int backOff)
    {
        Interlocked.Increment(ref _acceptErrorCount);
        _acceptErrors.Add(1, ProactorMetrics.BackendTag(listener.Engine), ProactorMetrics.EngineTag(listener.Engine), new KeyValuePair<string, object?>("error", error.ToString()));

        // A connection that was reset or gave up while in the backlog is that connection's problem
        // alone; the next one is fine, so take it now (as Kestrel and libuv do).
        if (error is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return TimeSpan.Zero;
        }

        int wait = backOff;
        backOff = Math.Min(backOff * 2, MaxBackOffMilliseconds);
        listener.Engine.Warn("accept-error",
            $"Proactor: accepting on {LocalEndPoint} failed with {error}{Explain(error)}; retrying in {wait} ms. " +
            "Connections wait in the kernel's backlog meanwhile.");
        return TimeSpan.FromMilliseconds(wait);

        static string Explain(SocketError error) => error switch
        {
            SocketError.TooManyOpenSockets => " (out of file descriptors: raise RLIMIT_NOFILE or close connections)",
            SocketError.NoBufferSpaceAvailable => " (the kernel is out of socket buffers)",
            _ => "",
        };
    }

    /// <summary>
    /// Accepts the next connection, on the loop the group chose for it. Accept errors that do not
    /// end the listener are retried, never thrown (see the remarks of <see cref="GroupListener"/>).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The listener (or the group's engines) was disposed.</exception>
    /// <exception cref="SocketException">With <see cref="SocketError.OperationAborted"/>: the listener
    /// was disposed while this accept was pending.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<ProactorSocket> AcceptAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this); // thrown at once, as ProactorSocket does
        return _accepted is null ? AcceptDistributingAsync(cancellationToken) : AcceptQueuedAsync(_accepted, cancellationToken);
    }

    private async ValueTask<ProactorSocket> AcceptQueuedAsync(Channel<ProactorSocket> accepted, CancellationToken cancellationToken)
    {
        try
        {
            return await accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e) when (e.InnerException is ObjectDisposedException inner && !IsDisposed)
        {
            throw new ObjectDisposedException(inner.ObjectName, $"The group listener stopped accepting: {inner.Message}");
        }
        catch (ChannelClosedException e) when (e.InnerException is { } inner && !IsDisposed)
        {
            throw new InvalidOperationException("The group listener's accept loops failed.", inner);
        }
        catch (ChannelClosedException)
        {
            throw new SocketException((int)SocketError.OperationAborted);
        }
    }

    private async ValueTask<ProactorSocket> AcceptDistributingAsync(CancellationToken cancellationToken)
    {
        ProactorSocket listener = _sockets[0];
        while (true)
        {
            TimeSpan wait;
            try
            {
                ProactorSocket connection = await AcceptOnceAsync(listener, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _backOffMilliseconds, FirstBackOffMilliseconds);
                return connection;
            }
            catch (SocketException e) when (!IsDisposed && e.SocketErrorCode != SocketError.OperationAborted)
            {
                // OperationAborted while not disposed: the engine itself went away; the accept ends.
                // Concurrent callers share one back-off; a lost update only shortens one wait.
                int backOff = Volatile.Read(ref _backOffMilliseconds);
                wait = OnAcceptError(listener, e.SocketErrorCode, ref backOff);
                Volatile.Write(ref _backOffMilliseconds, backOff);
            }

            if (wait > TimeSpan.Zero)
            {
                await BackOffAsync(listener.Engine, wait, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task BackOffAsync(ProactorEngine engine, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposalToken);
        try
        {
            await engine.Delay(wait, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Disposed during the back-off: end as an accept pending at disposal does.
            throw new SocketException((int)SocketError.OperationAborted);
        }
        catch (OperationCanceledException)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    /// <summary>Stops accepting and closes the listeners, as <see cref="Dispose"/> does (which never blocks).</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Closes the listening sockets and stops accepting. Pending accepts end with
    /// <see cref="SocketError.OperationAborted"/>; connections accepted but not yet handed out are closed.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _disposal.Cancel(); // ends back-offs; before closing, so no retry follows the close
        foreach (ProactorSocket socket in _sockets)
        {
            socket.Dispose();
        }

        if (_accepted is not null)
        {
            _accepted.Writer.TryComplete();
            while (_accepted.Reader.TryRead(out ProactorSocket? orphan))
            {
                orphan.Dispose();
            }
        }

        _disposal.Dispose();
    }
}
