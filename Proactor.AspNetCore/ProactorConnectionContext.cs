using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO.Pipelines;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Proactor.Pipelines;

namespace Proactor.AspNetCore;

/// <summary>
/// What Kestrel sees of one accepted connection: the <see cref="ProactorConnection"/> as its
/// transport, and the features Kestrel and its middleware ask for (id, items, end points, memory
/// pool for TLS, lifetime with abort). <c>IConnectionSocketFeature</c> is not offered: it hands out
/// a <see cref="System.Net.Sockets.Socket"/>, and I/O on it would bypass the engine that owns the
/// descriptor.
/// </summary>
internal sealed class ProactorConnectionContext : ConnectionContext,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IMemoryPoolFeature,
    IConnectionLifetimeFeature, IConnectionEndPointFeature
{
    private static long s_lastId;

    private readonly ProactorConnection _connection;
    private readonly ProactorTransportFactory _factory;
    private readonly FeatureCollection _features = new(7);
    private string? _connectionId;
    private IDictionary<object, object?>? _items;
    private IDuplexPipe _transport;
    private int _disposed;

    public ProactorConnectionContext(ProactorSocket socket, ProactorTransportFactory factory)
    {
        _factory = factory;
        _connection = new ProactorConnection(socket, factory.ConnectionOptions);
        _transport = _connection;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        ConnectionClosed = _connection.ConnectionClosed;
        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IMemoryPoolFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
        factory.OnConnectionOpened();
    }

    public override string ConnectionId
    {
        get => _connectionId ??= "proactor-" + Interlocked.Increment(ref s_lastId).ToString("X", System.Globalization.CultureInfo.InvariantCulture);
        set => _connectionId = value;
    }

    public override IFeatureCollection Features => _features;

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new ConnectionItems();
        set => _items = value;
    }

    public override IDuplexPipe Transport
    {
        get => _transport;
        set => _transport = value;
    }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    public MemoryPool<byte> MemoryPool => _connection.MemoryPool;

    public void Start() => _connection.Start();

    public override void Abort(ConnectionAbortedException abortReason) => _connection.Abort(abortReason);

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _factory.OnConnectionClosed();
        }
    }
}
