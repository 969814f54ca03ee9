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
            await UntilNotPausedAsync(engine, client, server);
            long before = engine.BatchYields;
            await EchoAsync(client, server, RoundTrips);
            long yields = engine.BatchYields - before;
            TestContext.Out.WriteLine($"{RoundTrips} round trips: {yields} yields to a batch, {engine.SlowBatchYields} slow");

            // Each round trip completes the server's receive in a batch of one, for which the
            // ring thread queues a new worker: it yields to the first at least (a busy machine may
            // make a yield slow, which pauses the rest).
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
            await UntilNotPausedAsync(engine, client, server);
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

    /// <summary>Echoes until the ring thread has made a yield that was not slow: an engine's
    /// first yields (cold code, a new pool thread) may be slow and pause the yielding.</summary>
    private static async Task UntilNotPausedAsync(IoUringEngine engine, ProactorSocket client, ProactorSocket server)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            long fast = engine.BatchYields - engine.SlowBatchYields;
            await EchoAsync(client, server, 1);
            if (engine.BatchYields - engine.SlowBatchYields > fast)
            {
                return;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"in 30 s the ring thread never yielded to a batch without the yield being slow ({engine.BatchYields} yields, {engine.SlowBatchYields} slow)");
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
