using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Proactor.Pipelines;

namespace Proactor.AspNetCore;

/// <summary>
/// Kestrel's transport on Proactor: binds IP endpoints on an engine group (main + sub loops) and
/// hands Kestrel each accepted connection as a <see cref="ConnectionContext"/> over a
/// <see cref="ProactorConnection"/>. Registered by <c>UseProactor()</c>.
/// </summary>
/// <remarks>
/// The engines are created when the first endpoint is bound and disposed with the factory (when
/// the host's services are disposed), after Kestrel has closed every connection. Endpoints other
/// than IP (Unix domain sockets, handles) are left to another transport through
/// <see cref="CanBind"/>.
/// </remarks>
public sealed class ProactorTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly ProactorTransportOptions _options;
    private readonly PinnedBlockMemoryPool _pool = new();
    private readonly Lock _lock = new();
    private ProactorEngineGroup? _group;
    private bool _ownsGroup;
    private int _openConnections;
    private int _disposed;

    /// <summary>Creates the factory with the options <c>UseProactor</c> configured.</summary>
    /// <param name="options">The transport's options.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The options are inconsistent (see <see cref="ProactorTransportOptions"/>).</exception>
    public ProactorTransportFactory(IOptions<ProactorTransportOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _options.Validate();
        ConnectionOptions = _options.ToConnectionOptions(_pool);
    }

    /// <summary>The engine group connections run on; null until the first endpoint is bound.</summary>
    public ProactorEngineGroup? EngineGroup => Volatile.Read(ref _group);

    /// <summary>Connections handed to Kestrel and not yet disposed by it.</summary>
    public int OpenConnections => Volatile.Read(ref _openConnections);

    internal ProactorConnectionOptions ConnectionOptions { get; }

    internal PinnedBlockMemoryPool MemoryPool => _pool;

    /// <summary>True for an <see cref="IPEndPoint"/>: the only kind this transport binds.</summary>
    /// <param name="endpoint">The endpoint Kestrel wants to bind.</param>
    /// <returns>Whether <see cref="BindAsync"/> can bind it.</returns>
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    /// <summary>Binds <paramref name="endpoint"/> and starts listening.</summary>
    /// <param name="endpoint">An <see cref="IPEndPoint"/> (port 0: the OS picks one; the listener's
    /// <see cref="IConnectionListener.EndPoint"/> tells which).</param>
    /// <param name="cancellationToken">Not used: binding does not wait.</param>
    /// <returns>The listener.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is null.</exception>
    /// <exception cref="NotSupportedException"><paramref name="endpoint"/> is not an <see cref="IPEndPoint"/>.</exception>
    /// <exception cref="AddressInUseException">The address is in use.</exception>
    /// <exception cref="ObjectDisposedException">The factory was disposed.</exception>
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint is not IPEndPoint ip)
        {
            throw new NotSupportedException($"The Proactor transport binds IP endpoints only, not {endpoint.GetType().Name} ({endpoint}).");
        }

        ProactorEngineGroup group = GetOrCreateGroup();
        GroupListener listener;
        try
        {
            listener = group.Listen(ip, _options.Distribution, _options.Backlog);
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            // Kestrel tells "in use" from other failures by this type (e.g. to try the next address).
            throw new AddressInUseException(e.Message, e);
        }

        return new ValueTask<IConnectionListener>(new ProactorConnectionListener(this, listener, _options.NoDelay));
    }

    private ProactorEngineGroup GetOrCreateGroup()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_group is null)
            {
                _ownsGroup = _options.EngineGroup is null;
                _group = _options.EngineGroup ?? EngineFactory.CreateGroup(_options.Loops, _options.Engine);
            }

            return _group;
        }
    }

    internal void OnConnectionOpened() => Interlocked.Increment(ref _openConnections);

    internal void OnConnectionClosed() => Interlocked.Decrement(ref _openConnections);

    /// <summary>Disposes the engines the factory created (not a group passed in the options).</summary>
    public void Dispose()
    {
        ProactorEngineGroup? group;
        lock (_lock)
        {
            if (_disposed != 0)
            {
                return;
            }

            _disposed = 1;
            group = _ownsGroup ? _group : null;
        }

        group?.Dispose();
        _pool.Dispose();
    }
}
