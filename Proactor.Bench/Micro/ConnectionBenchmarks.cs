using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Proactor.Pipelines;

namespace Proactor.Bench.Micro;

/// <summary>
/// The Kestrel transport's code path without Kestrel: a 64 B request/response cycle through two
/// <see cref="ProactorConnection"/>s (write and flush, the send loop's send, the receive loop's
/// zero-byte wait and receive into pooled memory, the reader's read and advance). The allocation
/// column is the transport's own per-request cost: it must read 0 B.
/// </summary>
[MemoryDiagnoser]
public class ConnectionBenchmarks
{
    private const int Ops = 64;
    private const int PipelineDepth = 16;

    private ProactorEngine _engine = null!;
    private ProactorConnection _client = null!;
    private ProactorConnection _server = null!;
    private readonly byte[] _request = new byte[64];
    private readonly byte[] _batch = new byte[64 * PipelineDepth];

    [ParamsSource(nameof(Backends))]
    public string Backend { get; set; } = "";

    public static IEnumerable<string> Backends => MicroBackends.Names();

    [GlobalSetup]
    public void Setup()
    {
        _engine = MicroBackends.Create(Backend);
        (ProactorSocket client, ProactorSocket server) = MicroBackends.ConnectedPair(_engine);
        _client = new ProactorConnection(client);
        _server = new ProactorConnection(server);
        _client.Start();
        _server.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _engine.Dispose();
    }

    /// <summary>One request and its response: two writes, two sends, two receives, two reads.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask RequestResponseCycle()
    {
        for (int i = 0; i < Ops; i++)
        {
            await _client.Output.WriteAsync(_request);
            await EchoAsync(_server.Input, _server.Output, _request.Length);
            await DrainAsync(_client.Input, _request.Length);
        }
    }

    /// <summary>
    /// 16 pipelined requests in one client flush, each answered by its own server write and flush
    /// (as Kestrel answers pipelined HTTP/1.1 requests), then all 16 responses read: per request,
    /// a share of one receive and one gathered send on each side. Reported per request.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Ops * PipelineDepth)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask PipelinedRequests()
    {
        for (int i = 0; i < Ops; i++)
        {
            await _client.Output.WriteAsync(_batch);
            long answered = 0;
            while (answered < PipelineDepth)
            {
                ReadResult read = await _server.Input.ReadAsync();
                long complete = Math.Min(read.Buffer.Length / _request.Length, PipelineDepth - answered);
                for (long r = 0; r < complete; r++)
                {
                    _server.Output.Write(_request);
                    await _server.Output.FlushAsync();
                }

                answered += complete;
                _server.Input.AdvanceTo(read.Buffer.GetPosition(complete * _request.Length), read.Buffer.End);
            }

            await DrainAsync(_client.Input, _batch.Length);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask EchoAsync(PipeReader input, PipeWriter output, int length)
    {
        long n = 0;
        while (n < length)
        {
            ReadResult read = await input.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in read.Buffer)
            {
                output.Write(segment.Span);
            }

            n += read.Buffer.Length;
            input.AdvanceTo(read.Buffer.End);
        }

        await output.FlushAsync();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask DrainAsync(PipeReader input, int length)
    {
        long n = 0;
        while (n < length)
        {
            ReadResult read = await input.ReadAsync();
            n += read.Buffer.Length;
            input.AdvanceTo(read.Buffer.End);
        }
    }
}
