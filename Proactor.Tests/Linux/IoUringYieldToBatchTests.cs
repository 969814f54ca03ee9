using System;
using System.Runtime.Versioning;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Linux;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Linux;

/// <summary>
/// io_uring with thread-pool dispatch: after queuing a worker for a small batch the ring thread
/// yields once before it sleeps, so the batch's follow-up operations find it awake; a yield that
/// takes long (another thread held the core) pauses the yielding for a while.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[SupportedOSPlatform("linux")]
[NonParallelizable]
public sealed class IoUringYieldToBatchTests
{
    private const int RoundTrips = 50;

    [Test]
    public async Task The_ring_thread_yields_to_the_small_batches_of_an_echo_and_every_byte_goes_through()
    {
        using var engine = NewEngine();
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            long before = engine.BatchYields;
            await EchoAsync(client, server, RoundTrips);
            long yields = engine.BatchYields - before;
            TestContext.Out.WriteLine($"{RoundTrips} round trips: {yields} yields to a batch, {engine.SlowBatchYields} slow");

            // Each round trip completes the server's receive in a batch of one, for which the
            // ring thread queues a new worker: it yields to each (none is slow on an idle core,
            // but a busy machine may make some slow, and each slow one pauses the rest).
            Assert.That(yields, Is.GreaterThanOrEqualTo(1), "the ring thread must yield to a batch of one");
            Assert.That(yields, Is.LessThanOrEqualTo(2 * RoundTrips + 4), "one yield per queued worker, not more");
        }
    }

    [Test]
    public async Task A_slow_yield_pauses_the_yielding_and_the_engine_keeps_serving()
    {
        Assert.That(IoUringEngine.YieldPause, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(500)), "the test needs the pause to outlast its round trips");
        using var engine = NewEngine();
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            await EchoAsync(client, server, 1); // the connection's own batches are behind us
            engine.SlowYieldForTestsMicroseconds = (int)(IoUringEngine.SlowYield.TotalMilliseconds * 1000) + 2_000;
            long yieldsBefore = engine.BatchYields;
            long slowBefore = engine.SlowBatchYields;
            var clock = System.Diagnostics.Stopwatch.StartNew();

            await EchoAsync(client, server, RoundTrips);

            long yields = engine.BatchYields - yieldsBefore;
            long slow = engine.SlowBatchYields - slowBefore;
            TestContext.Out.WriteLine($"{RoundTrips} round trips in {clock.ElapsedMilliseconds} ms: {yields} yields, {slow} slow");
            Assert.That(slow, Is.GreaterThanOrEqualTo(1), "a yield that took longer than the bound counts as slow");
            if (clock.Elapsed < IoUringEngine.YieldPause)
            {
                Assert.That(yields, Is.EqualTo(1), "after a slow yield the ring thread must not yield again until the pause is over");
            }
            else
            {
                // A machine slow enough to outlast the pause: at most one yield per pause.
                Assert.That(yields, Is.LessThanOrEqualTo(1 + (long)(clock.Elapsed / IoUringEngine.YieldPause)));
            }
        }
    }

    private static async Task EchoAsync(ProactorSocket client, ProactorSocket server, int roundTrips)
    {
        byte[] one = new byte[1];
        byte[] got = new byte[1];
        for (int i = 0; i < roundTrips; i++)
        {
            one[0] = (byte)i;
            ValueTask<int> receive = server.ReceiveAsync(got);
            await client.SendAsync(one).Timeout();
            Assert.That(await receive.AsTask().Timeout(), Is.EqualTo(1));
            Assert.That(got[0], Is.EqualTo((byte)i), $"round trip {i}: the server receives the client's byte");
            await server.SendAsync(got).Timeout();
            byte[] back = new byte[1];
            Assert.That(await client.ReceiveAsync(back).AsTask().Timeout(), Is.EqualTo(1));
            Assert.That(back[0], Is.EqualTo((byte)i), $"round trip {i}: the client gets its byte back");
        }
    }

    private static IoUringEngine NewEngine() => (IoUringEngine)EngineFactory.Create(new EngineOptions
    {
        Backend = BackendKind.IoUring,
        Dispatch = CompletionDispatch.ThreadPool,
    });
}
