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
            // ring thread queues a new worker: it yields to the first at least (a yield that does
            // not serve, as where the worker runs on the other core, pauses the rest).
            Assert.That(yields, Is.GreaterThanOrEqualTo(1), "the ring thread must yield to a batch of one");
            Assert.That(yields, Is.LessThanOrEqualTo(2 * RoundTrips + 4), "one yield per queued worker, not more");
        }
    }

    [Test]
    public async Task Slow_yields_pause_the_yielding_longer_each_time_and_the_engine_keeps_serving()
    {
        using var engine = NewEngine();
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            await UntilNotPausedAsync(engine, client, server);

            // From here every yield is slow, as with another process spinning on the core: the
            // pauses double from the shortest (10, 20, 40, 80, ... ms), so over 300 ms of round
            // trips the ring thread may yield about log2(300 / 10) + 1 times, not once per batch.
            engine.SlowYieldForTestsMicroseconds = (int)(IoUringEngine.SlowYield.TotalMilliseconds * 1000) + 2_000;
            long yieldsBefore = engine.BatchYields;
            long slowBefore = engine.SlowBatchYields;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int roundTrips = 0;
            while (clock.Elapsed < TimeSpan.FromMilliseconds(300) || roundTrips < RoundTrips)
            {
                await EchoAsync(client, server, 1);
                roundTrips++;
            }

            long yields = engine.BatchYields - yieldsBefore;
            long slow = engine.SlowBatchYields - slowBefore;
            TestContext.Out.WriteLine($"{roundTrips} round trips in {clock.ElapsedMilliseconds} ms: {yields} yields, {slow} slow");
            Assert.That(slow, Is.EqualTo(yields), "every yield took longer than the bound");
            Assert.That(yields, Is.GreaterThanOrEqualTo(1));
            double bound = Math.Log2(clock.Elapsed / IoUringEngine.ShortestYieldPause) + 2;
            Assert.That(yields, Is.LessThanOrEqualTo((long)bound),
                $"after each slow yield the ring thread waits twice as long before it yields again ({roundTrips} round trips)");
        }
    }

    /// <summary>Echoes until the ring thread's yielding is not paused: an engine's first yields
    /// (cold code, a new pool thread, a worker on another core) may not serve and pause it.</summary>
    private static async Task UntilNotPausedAsync(IoUringEngine engine, ProactorSocket client, ProactorSocket server)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await EchoAsync(client, server, 1);
        while (engine.YieldingPaused)
        {
            Assert.That(clock.Elapsed, Is.LessThan(IoUringEngine.LongestYieldPause * 3), "a pause must end");
            await Task.Delay(5);
        }
    }

    /// <summary>Round trips of one byte each way, each receive posted before its send.</summary>
    private static async Task EchoAsync(ProactorSocket client, ProactorSocket server, int roundTrips)
    {
        for (int i = 0; i < roundTrips; i++)
        {
            await Net.AssertOneByteGoesThroughAsync(client, server, (byte)i);
            await Net.AssertOneByteGoesThroughAsync(server, client, (byte)i);
        }
    }

    private static IoUringEngine NewEngine() => IoUringRingPolicyTests.NewEngine();
}
