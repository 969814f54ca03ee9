using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;

namespace Proactor.Bench.Micro;

/// <summary>
/// Completion-queue throughput: a batch of sends and receives submitted without awaits, then
/// every completion drained from the queue's reader. One operation = one submit + its completion.
/// </summary>
[MemoryDiagnoser]
public class CompletionQueueBenchmarks
{
    private const int Batch = 32;
    private const int MessageSize = 64;

    private ProactorEngine _engine = null!;
    private ProactorSocket _client = null!;
    private ProactorSocket _server = null!;
    private CompletionQueue _queue = null!;
    private readonly byte[] _message = new byte[MessageSize];
    private readonly byte[][] _receive = new byte[Batch][];
    private static readonly object s_sendToken = new();
    private static readonly object s_receiveToken = new();

    [ParamsSource(nameof(Backends))]
    public string Backend { get; set; } = "";

    public static IEnumerable<string> Backends => MicroBackends.Names();

    [GlobalSetup]
    public void Setup()
    {
        _engine = MicroBackends.Create(Backend);
        (_client, _server) = MicroBackends.ConnectedPair(_engine);
        _queue = _engine.CreateCompletionQueue(singleReader: true);
        for (int i = 0; i < Batch; i++)
        {
            _receive[i] = new byte[MessageSize];
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.Dispose();
        _engine.Dispose();
    }

    [Benchmark(OperationsPerInvoke = 2 * Batch)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SubmitAndDrain()
    {
        for (int i = 0; i < Batch; i++)
        {
            _queue.SubmitSend(_client, _message, s_sendToken);
            _queue.SubmitReceive(_server, _receive[i], s_receiveToken);
        }

        int pending = 2 * Batch;
        long missing = (long)Batch * MessageSize; // bytes sent but not yet received
        while (pending > 0)
        {
            if (!_queue.Reader.TryRead(out Completion c))
            {
                await _queue.Reader.WaitToReadAsync();
                continue;
            }

            pending--;
            if (ReferenceEquals(c.UserToken, s_receiveToken))
            {
                missing -= c.BytesTransferred;
                if (pending == 0 && missing > 0)
                {
                    // TCP may split the stream differently: receive the rest before the next batch.
                    _queue.SubmitReceive(_server, _receive[0], s_receiveToken);
                    pending++;
                }
            }
        }
    }
}
