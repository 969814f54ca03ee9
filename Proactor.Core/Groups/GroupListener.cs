using System;
using System.Collections.Generic;
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
public sealed class GroupListener : IDisposable
{
    private readonly ProactorSocket[] _sockets;
    private readonly Channel<ProactorSocket>? _accepted; // ReusePort: the per-loop accept loops feed it
    private int _disposed;

    private GroupListener(ProactorSocket[] sockets, Channel<ProactorSocket>? accepted)
    {
        _sockets = sockets;
        _accepted = accepted;
        LocalEndPoint = (IPEndPoint)sockets[0].LocalEndPoint!;
    }

    /// <summary>The bound address (with the port the OS chose, for port 0).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The listening sockets: one on the main loop, or one per loop with ReusePort.</summary>
    public IReadOnlyList<ProactorSocket> Sockets => _sockets;

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

        var channel = Channel.CreateUnbounded<ProactorSocket>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
        var listener = new GroupListener(sockets.ToArray(), channel);
        foreach (ProactorSocket socket in sockets)
        {
            _ = listener.AcceptLoopAsync(socket, channel.Writer);
        }

        return listener;
    }

    private async Task AcceptLoopAsync(ProactorSocket listener, ChannelWriter<ProactorSocket> writer)
    {
        try
        {
            while (true)
            {
                ProactorSocket connection = await listener.AcceptAsync().ConfigureAwait(false);
                if (!writer.TryWrite(connection))
                {
                    connection.Dispose(); // the group listener was disposed meanwhile
                    return;
                }
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException or OperationCanceledException)
        {
            writer.TryComplete(Volatile.Read(ref _disposed) != 0 ? null : e);
        }
    }

    /// <summary>Accepts the next connection, on the loop the group chose for it.</summary>
    /// <exception cref="ObjectDisposedException">The listener was disposed.</exception>
    public async ValueTask<ProactorSocket> AcceptAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_accepted is null)
        {
            return await _sockets[0].AcceptAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e) when (e.InnerException is { } inner)
        {
            throw inner;
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(GroupListener));
        }
    }

    /// <summary>Closes the listening sockets; pending accepts end with OperationAborted.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

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
    }
}
