using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;

namespace Proactor.AspNetCore;

/// <summary>
/// One bound endpoint. As Kestrel's Sockets transport: <see cref="UnbindAsync"/> stops accepting
/// (a pending <see cref="AcceptAsync"/> then returns null) and leaves the connections already
/// handed out running, so in-flight requests finish; Kestrel disposes each of those itself.
/// </summary>
internal sealed class ProactorConnectionListener : IConnectionListener
{
    private readonly ProactorTransportFactory _factory;
    private readonly GroupListener _listener;
    private readonly bool _noDelay;
    private volatile bool _unbound;

    public ProactorConnectionListener(ProactorTransportFactory factory, GroupListener listener, bool noDelay)
    {
        _factory = factory;
        _listener = listener;
        _noDelay = noDelay;
        EndPoint = listener.LocalEndPoint;
    }

    public EndPoint EndPoint { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            ProactorSocket socket;
            try
            {
                socket = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException) when (_unbound)
            {
                return null;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted && _unbound)
            {
                return null; // unbound while this accept waited
            }

            try
            {
                socket.NoDelay = _noDelay;
            }
            catch (SocketException)
            {
                // Reset between accept and here: that connection is gone; take the next one.
                socket.Dispose();
                continue;
            }

            var connection = new ProactorConnectionContext(socket, _factory);
            connection.Start();
            return connection;
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _unbound = true;
        _listener.Dispose();
        return default;
    }

    public ValueTask DisposeAsync() => UnbindAsync();
}
