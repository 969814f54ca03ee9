using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Runtime.Versioning;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Linux;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Linux;

/// <summary>
/// io_uring with thread-pool dispatch: receives started by a batch of continuations share one
/// eventfd wake of the ring thread (deferred to the batch's end) instead of one each.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[SupportedOSPlatform("linux")]
[NonParallelizable]
public sealed class IoUringWakeDeferralTests
{
    [Test]
    public async Task Receives_started_by_a_batch_of_continuations_defer_their_wake_to_the_batch_end()
    {
        using var engine = (IoUringEngine)EngineFactory.Create(new EngineOptions
        {
            Backend = BackendKind.IoUring,
            Dispatch = CompletionDispatch.ThreadPool,
        });
        const int Pairs = 16;
        const int Rounds = 20;
        var pairs = new List<(ProactorSocket Client, ProactorSocket Server)>();
        try
        {
            for (int i = 0; i < Pairs; i++)
            {
                pairs.Add(await Net.ConnectedPairAsync(engine));
            }

            // Each server receives one byte per round, then starts its next receive from the
            // continuation, on the pool thread of the batch: nothing is there yet, so it is posted.
            Task<byte[]>[] servers = pairs.Select(p => Task.Run(async () =>
            {
                byte[] got = new byte[Rounds];
                for (int r = 0; r < Rounds; r++)
                {
                    int n = await p.Server.ReceiveAsync(got.AsMemory(r, 1));
                    Assert.That(n, Is.EqualTo(1));
                }

                return got;
            })).ToArray();

            for (int r = 0; r < Rounds; r++)
            {
                await Task.Delay(2); // let the receives reach the ring, so the sends complete them there
                foreach (var (client, _) in pairs)
                {
                    await client.SendAsync(new[] { (byte)r }).Timeout();
                }
            }

            byte[][] received = await Task.WhenAll(servers).Timeout();
            TestContext.Out.WriteLine($"deferred wakes {engine.DeferredWakes}, eventfd writes {engine.WakeWrites}");
            Assert.Multiple(() =>
            {
                foreach (byte[] got in received)
                {
                    Assert.That(got, Is.EqualTo(Enumerable.Range(0, Rounds).Select(i => (byte)i).ToArray()));
                }

                Assert.That(engine.DeferredWakes, Is.GreaterThan(0), "receives posted from a batch must defer their wake");
            });
        }
        finally
        {
            foreach (var (client, server) in pairs)
            {
                client.Dispose();
                server.Dispose();
            }
        }
    }

    /// <summary>
    /// The bound on the ring thread's sleep serves a deferred post only: a continuation that runs
    /// for long and posts nothing (a stream echoed by one loop whose operations complete at once)
    /// must not make the ring thread wake every millisecond meanwhile. Counted by its loop
    /// iterations: with the bound tied to a running batch instead, 300 ms of continuation made
    /// about 300 of them.
    /// </summary>
    [Test]
    public async Task A_long_continuation_that_posts_nothing_lets_the_ring_thread_sleep()
    {
        using var engine = (IoUringEngine)EngineFactory.Create(new EngineOptions
        {
            Backend = BackendKind.IoUring,
            Dispatch = CompletionDispatch.ThreadPool,
        });
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            using var running = new ManualResetEventSlim();
            using var finish = new ManualResetEventSlim();
            Task<int> receiver = Task.Run(async () =>
            {
                byte[] buffer = new byte[1];
                int n = await server.ReceiveAsync(buffer); // a bare await: the continuation runs in the batch
                Assert.That(CompletionBatch.IsDeliveringFor(engine), Is.True, "the continuation runs in the engine's batch");
                running.Set();
                finish.Wait(Net.StepTimeout); // a long continuation that posts nothing
                return n;
            });

            await Task.Delay(20); // let the receive reach the ring, so the send completes it there
            await client.SendAsync(new byte[] { 5 }).Timeout();
            Assert.That(await Task.Run(() => running.Wait(Net.StepTimeout)), Is.True, "the receive's continuation must run");
            long before = engine.Statistics.LoopIterations;
            await Task.Delay(300);
            long during = engine.Statistics.LoopIterations - before;
            finish.Set();
            Assert.That(await receiver.Timeout(), Is.EqualTo(1));
            TestContext.Out.WriteLine($"ring thread loop iterations during 300 ms of continuation: {during}");
            Assert.That(during, Is.LessThan(30), "the ring thread must sleep while nothing was posted");

            // The engine still serves after the long continuation ended.
            await Net.AssertOneByteGoesThroughAsync(client, server, 6);
        }
    }

    /// <summary>
    /// The deferral's two sides race: a continuation posts a receive, then, after a random spin,
    /// posts another and blocks on it: the second post lands at a random point of the ring thread's
    /// iteration, awake, deciding how long to sleep, asleep with the bound, or giving the bound up
    /// after a bounded sleep ran out with nothing done. Whatever
    /// the order, the ring thread must take the post (its sleep bounded, or woken by the poster):
    /// every blocked receive gets its byte. Multishot receive is off, so each receive is a post of
    /// its own. Replay with PROACTOR_RACE_SEED.
    /// </summary>
    [Test]
    public async Task A_continuation_blocking_on_a_receive_it_posted_at_a_random_moment_always_gets_it()
    {
        int seed = Stress.Seed();
        TestContext.Out.WriteLine($"seed {seed} (PROACTOR_RACE_SEED={seed} replays it)");
        var random = new Random(seed);
        using var engine = (IoUringEngine)EngineFactory.Create(new EngineOptions
        {
            Backend = BackendKind.IoUring,
            Dispatch = CompletionDispatch.ThreadPool,
        });
        engine.MultishotReceive = false;
        var (clientA, serverA) = await Net.ConnectedPairAsync(engine);
        var (clientB, serverB) = await Net.ConnectedPairAsync(engine);
        var (clientC, serverC) = await Net.ConnectedPairAsync(engine);
        using (clientA)
        using (serverA)
        using (clientB)
        using (serverB)
        using (clientC)
        using (serverC)
        {
            var clock = Stopwatch.StartNew();
            int rounds = 0;
            while (clock.Elapsed < Stress.Duration)
            {
                byte tag = (byte)rounds;
                // Mostly soon after the wake-up; sometimes around the end of the ring thread's
                // bounded sleep, after which (nothing done) it sleeps without the bound.
                int spinBeforePost = random.Next(0, 4) switch
                {
                    0 => random.Next(0, 200),
                    1 => random.Next(500, 3000),
                    _ => random.Next(0, 20),
                };
                int spinBeforeSend = random.Next(0, 100);
                using var posted = new ManualResetEventSlim();
                Task<int> other = Task.FromResult(-1);
                Task<(int First, int Second, byte Got)> receiver = Task.Run(async () =>
                {
                    byte[] one = new byte[1];
                    int first = await serverA.ReceiveAsync(one); // a bare await: the rest runs in the batch
                    other = serverC.ReceiveAsync(new byte[1]).AsTask(); // a post ahead of the one it blocks on
                    Stress.SpinFor(spinBeforePost);
                    byte[] two = new byte[1];
                    Task<int> receive = serverB.ReceiveAsync(two).AsTask();
                    posted.Set();
                    int second = receive.Wait(Net.StepTimeout) ? receive.Result : -2; // blocks its batch
                    return (first, second, two[0]);
                });

                await clientA.SendAsync(new[] { tag }).Timeout();
                Assert.That(await Task.Run(() => posted.Wait(Net.StepTimeout)), Is.True, $"round {rounds}: the continuation must run (seed {seed})");
                Stress.SpinFor(spinBeforeSend);
                await clientB.SendAsync(new[] { tag }).Timeout();
                var (firstBytes, secondBytes, got) = await receiver.Timeout();
                await clientC.SendAsync(new[] { tag }).Timeout(); // only now: its arrival would wake the ring thread
                Assert.That((firstBytes, secondBytes, got), Is.EqualTo((1, 1, tag)),
                    $"round {rounds}: the receive a blocked continuation posted must complete with its byte (seed {seed})");
                Assert.That(await other.Timeout(), Is.EqualTo(1), $"round {rounds}: the other receive (seed {seed})");
                rounds++;
            }

            TestContext.Out.WriteLine($"{rounds} rounds, deferred wakes {engine.DeferredWakes}, eventfd writes {engine.WakeWrites}");
            Assert.That(engine.DeferredWakes, Is.GreaterThan(0), "some posts must have deferred their wake");
        }
    }
}
