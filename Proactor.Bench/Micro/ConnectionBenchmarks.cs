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

    private ProactorEngine _engine = null!;
    private ProactorConnection _client = null!;
    private ProactorConnection _server = null!;
    private readonly byte[] _request = new byte[64];

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
