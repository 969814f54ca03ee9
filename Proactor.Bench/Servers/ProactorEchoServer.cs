using System;
using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Bench.Servers;

/// <summary>
/// The echo server on Proactor: an accept loop, and per connection a receive-then-send loop over
/// one buffer (no allocation per message). With <see cref="CompletionDispatch.Queue"/> the same
/// loop is driven by completions instead of awaits; with <c>loops &gt; 0</c> it runs on an engine
/// group (main + sub loops).
/// </summary>
internal sealed partial class ProactorEchoServer : IEchoServer
{
    private readonly ProactorEngine? _engine;
    private readonly ProactorEngineGroup? _group;
    private readonly ProactorSocket? _listener;
    private readonly GroupListener? _groupListener;
    private readonly IDisposable? _udp;
    private readonly IDisposable? _unix;
    private readonly CancellationTokenSource _stop = new();
    private readonly BlockingHandler? _blocking;

    public ProactorEchoServer(EngineOptions options, IPEndPoint endPoint, int loops = 0, AcceptDistribution distribution = AcceptDistribution.RoundRobin, BlockingHandler? blocking = null)
    {
        _blocking = blocking;
        try
        {
            if (loops > 0)
            {
                _group = EngineFactory.CreateGroup(loops, options);
                _groupListener = _group.Listen(endPoint, distribution, EchoSettings.Backlog);
                EndPoint = _groupListener.LocalEndPoint;
                _name = $"Proactor {_group.Engines[0].Name} x{loops} loops ({distribution.ToString().ToLowerInvariant()}), dispatch {options.Dispatch.ToString().ToLowerInvariant()}";
                _ = AcceptLoopAsync(_groupListener!.AcceptAsync);
                _udp = UdpEcho.TryStart(() => UdpEcho.StartProactor(_group.Engines[0], EndPoint));
                _unix = StartUnix(_group.Engines[0]);
                return;
            }

            _engine = EngineFactory.Create(options);
            _listener = ProactorSocket.CreateListener(_engine, endPoint, EchoSettings.Backlog);
            EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
            _name = $"Proactor {_engine.Name}, dispatch {_engine.Dispatch.ToString().ToLowerInvariant()}";
            if (_engine.Dispatch == CompletionDispatch.Queue)
            {
                StartQueueServer(_engine, _listener);
            }
            else
            {
                _ = AcceptLoopAsync(_listener!.AcceptAsync);
                _udp = UdpEcho.TryStart(() => UdpEcho.StartProactor(_engine, EndPoint)); // a queue engine has no awaitable UDP echo
                _unix = StartUnix(_engine);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public IPEndPoint EndPoint { get; } = null!;

    private readonly string _name = "";

    /// <summary>The same echo on a Unix listener (on the group's first engine: the workload
    /// compares the transport, not the spreading of connections).</summary>
    private IDisposable? StartUnix(ProactorEngine engine) => UnixEcho.TryStart(EndPoint.Port, endPoint =>
    {
        ProactorSocket listener = ProactorSocket.CreateListener(engine, endPoint, EchoSettings.Backlog);
        _ = AcceptLoopAsync(listener.AcceptAsync);
        return listener;
    });

    public string Name => _blocking is null ? _name : $"{_name}, {_blocking}";

    /// <summary>Accepts until stopped, from a plain listener or a group listener alike.</summary>
    private async Task AcceptLoopAsync(Func<CancellationToken, ValueTask<ProactorSocket>> accept)
    {
        while (!_stop.IsCancellationRequested)
        {
            ProactorSocket connection;
            try
            {
                connection = await accept(_stop.Token);
            }
            catch (Exception e) when (IsEnd(e))
            {
                return;
            }
            catch (SocketException e)
            {
                // EMFILE and the like: the client sees a refused or stalled connection and reports it.
                Console.Error.WriteLine($"accept failed: {e.Message}");
                await Task.Delay(10);
                continue;
            }

            _ = EchoAsync(connection, _blocking);
        }
    }

    private bool IsEnd(Exception e) =>
        e is OperationCanceledException or ObjectDisposedException ||
        (e is SocketException se && (se.SocketErrorCode == SocketError.OperationAborted || _stop.IsCancellationRequested));

    /// <summary>
    /// Waits for data with a zero-byte receive and rents the buffer only while there is something
    /// to echo: an idle connection holds no buffer (see the <c>idle</c> command). The rented buffer
    /// goes back to the pool before the next wait.
    /// </summary>
    private static async Task EchoAsync(ProactorSocket connection, BlockingHandler? blocking)
    {
        using (connection)
        {
            try
            {
                if (connection.AddressFamily != AddressFamily.Unix)
                {
                    connection.NoDelay = true;
                }

                while (true)
                {
                    await connection.ReceiveAsync(Memory<byte>.Empty);
                    byte[] buffer = ArrayPool<byte>.Shared.Rent(EchoSettings.BufferSize);
                    try
                    {
                        int n = await connection.ReceiveAsync(buffer.AsMemory(0, EchoSettings.BufferSize));
                        if (n == 0)
                        {
                            return;
                        }

                        blocking?.OnMessage();
                        await connection.SendAsync(buffer.AsMemory(0, n));
                    }
                    finally
                    {
                        // Only after the operations that used it have completed (the awaits above).
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
            catch (SocketException)
            {
                // reset by the client, or aborted at shutdown: the connection is over either way
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _udp?.Dispose();
        _unix?.Dispose();
        _listener?.Dispose();
        _groupListener?.Dispose();
        _engine?.Dispose();
        _group?.Dispose();
        _stop.Dispose();
    }
}
