using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;

namespace Proactor.Bench.Micro;

/// <summary>
/// Per-operation cost of the awaitable API on each backend, on a connected loopback pair. Each
/// invocation runs <see cref="Ops"/> operations, and the benchmark methods use the pooling
/// async builder, so the only allocations left to see are the library's own.
/// </summary>
[MemoryDiagnoser]
public class SocketBenchmarks
{
    private const int Ops = 64;

    private ProactorEngine _engine = null!;
    private ProactorSocket _client = null!;
    private ProactorSocket _server = null!;
    private Socket _peer = null!;
    private ProactorSocket _peerServer = null!;
    private readonly byte[] _ping = new byte[64];
    private readonly byte[] _serverBuffer = new byte[64];
    private readonly byte[] _clientBuffer = new byte[64];
    private readonly byte[] _one = new byte[1];

    [ParamsSource(nameof(Backends))]
    public string Backend { get; set; } = "";

    public static IEnumerable<string> Backends => MicroBackends.Names();

    [GlobalSetup]
    public void Setup()
    {
        _engine = MicroBackends.Create(Backend);
        (_client, _server) = MicroBackends.ConnectedPair(_engine);
        (_peer, _peerServer) = MicroBackends.PeerPair(_engine);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.Dispose();
        _peerServer.Dispose();
        _peer.Dispose();
        _engine.Dispose();
    }

    /// <summary>One 64 B round trip: client send, server receive, server send, client receive.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReceiveSendRoundTrip()
    {
        for (int i = 0; i < Ops; i++)
        {
            await _client.SendAsync(_ping);
            await ReceiveExactlyAsync(_server, _serverBuffer);
            await _server.SendAsync(_serverBuffer);
            await ReceiveExactlyAsync(_client, _clientBuffer);
        }
    }

    /// <summary>Submit-to-completion of a receive that must wait: submitted on an empty socket,
    /// then the peer's blocking send makes the loop perform it and complete it.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SubmitToCompletionPending()
    {
        for (int i = 0; i < Ops; i++)
        {
            ValueTask<int> receive = _peerServer.ReceiveAsync(_one);
            _peer.Send(_one);
            await receive;
        }
    }

    /// <summary>Submit-to-completion when the data is already there: the synchronous fast path.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SubmitToCompletionReady()
    {
        for (int i = 0; i < Ops; i++)
        {
            _peer.Send(_one);
            await _peerServer.ReceiveAsync(_one);
        }
    }

    // Pooled like the benchmarks themselves: on a backend without a synchronous fast path
    // (io_uring) this method always completes asynchronously, and a fresh box per call would be
    // counted against the library.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask ReceiveExactlyAsync(ProactorSocket socket, byte[] buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(got));
            if (n == 0)
            {
                throw new InvalidOperationException("the peer closed");
            }

            got += n;
        }
    }
}
