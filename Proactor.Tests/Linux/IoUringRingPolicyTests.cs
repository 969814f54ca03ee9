using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Linux;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Linux;

/// <summary>
/// io_uring with thread-pool dispatch: while a pool thread runs a batch of continuations, the
/// ring thread sleeps as SCHED_BATCH (its wake-ups do not preempt the batch); once the batch is
/// done it is an ordinary thread again, so a completion outside batches is taken at once.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[SupportedOSPlatform("linux")]
[NonParallelizable]
public sealed partial class IoUringRingPolicyTests
{
    private const int SchedOther = 0;
    private const int SchedBatch = 3;

    [Test]
    public async Task The_ring_thread_yields_while_a_batch_runs_and_is_ordinary_again_after_it()
    {
        using var engine = NewEngine();
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            int ring = await RingThreadAsync(engine);
            // This method itself may still run in the batch that completed the connect.
            Assert.That(await PolicySettlesAsync(ring, SchedOther), Is.True, "with no batch running the ring thread is an ordinary thread");

            Task<(int Bytes, int PolicyInBatch)> receiver = Task.Run(async () =>
            {
                byte[] buffer = new byte[1];
                int n = await server.ReceiveAsync(buffer); // a bare await: the continuation runs in the batch
                Assert.That(CompletionBatch.IsDeliveringFor(engine), Is.True, "the continuation runs in the engine's batch");

                // The ring thread changes its policy before it sleeps, after it queued this batch.
                int policy = -1;
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < Net.StepTimeout && (policy = Policy(ring)) != SchedBatch)
                {
                    Thread.Sleep(1);
                }

                return (n, policy);
            });

            await Task.Delay(20); // let the receive reach the ring, so the send completes it there
            await client.SendAsync(new byte[] { 7 }).Timeout();
            var (bytes, policyInBatch) = await receiver.Timeout();
            Assert.That(bytes, Is.EqualTo(1));
            Assert.That(policyInBatch, Is.EqualTo(SchedBatch), "while the batch runs the ring thread sleeps as SCHED_BATCH");
            Assert.That(await PolicySettlesAsync(ring, SchedOther), Is.True, "after the batch the ring thread is an ordinary thread again");
            Assert.That(engine.RingPolicyChanges, Is.GreaterThanOrEqualTo(2));

            await Net.AssertOneByteGoesThroughAsync(client, server, 8);
        }
    }

    /// <summary>
    /// The two sides race: batches of random size end at random points of the ring thread's
    /// iteration (awake, deciding to sleep, changing its policy, asleep; the decision is widened
    /// in half the rounds). Whatever the order, once
    /// no batch runs the ring thread must not stay SCHED_BATCH, and every receive gets its byte.
    /// Replay with PROACTOR_RACE_SEED.
    /// </summary>
    [Test]
    public async Task Whatever_the_order_no_batch_leaves_the_ring_thread_yielding()
    {
        int seed = Stress.Seed();
        TestContext.Out.WriteLine($"seed {seed} (PROACTOR_RACE_SEED={seed} replays it)");
        var random = new Random(seed);
        using var engine = NewEngine();
        var pairs = new List<(ProactorSocket Client, ProactorSocket Server)>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                pairs.Add(await Net.ConnectedPairAsync(engine));
            }

            int ring = await RingThreadAsync(engine);
            var clock = Stopwatch.StartNew();
            int rounds = 0;
            while (clock.Elapsed < Stress.Duration)
            {
                // Half the rounds widen the window between the ring thread seeing a batch run and
                // marking itself yielding, so that batches end inside it.
                engine.YieldDecisionDelayMicroseconds = random.Next(0, 2) == 0 ? 0 : random.Next(1, 150);
                int count = random.Next(1, pairs.Count + 1);
                int[] spins = Enumerable.Range(0, count).Select(_ => random.Next(0, 3) == 0 ? 0 : random.Next(0, 300)).ToArray();
                int[] gaps = Enumerable.Range(0, count).Select(_ => random.Next(0, 3) == 0 ? 0 : random.Next(0, 200)).ToArray();
                byte tag = (byte)rounds;
                Task<(int Bytes, byte Got)>[] receivers = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
                {
                    byte[] one = new byte[1];
                    int n = await pairs[i].Server.ReceiveAsync(one); // the rest runs in a batch
                    Stress.SpinFor(spins[i]);
                    return (n, one[0]);
                })).ToArray();

                await Task.Delay(random.Next(0, 3)); // the receives reach the ring, or some do not yet
                for (int i = 0; i < count; i++)
                {
                    Stress.SpinFor(gaps[i]);
                    await pairs[i].Client.SendAsync(new[] { tag }).Timeout();
                }

                foreach (Task<(int Bytes, byte Got)> receiver in receivers)
                {
                    Assert.That(await receiver.Timeout(), Is.EqualTo((1, tag)), $"round {rounds}: every receive gets its byte (seed {seed})");
                }

                Assert.That(await PolicySettlesAsync(ring, SchedOther), Is.True,
                    $"round {rounds}: with no batch left the ring thread must be an ordinary thread (seed {seed})");
                rounds++;
            }

            TestContext.Out.WriteLine($"{rounds} rounds, ring policy changes {engine.RingPolicyChanges}");
            Assert.That(engine.RingPolicyChanges, Is.GreaterThan(0), "some batches must have made the ring thread yield");
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

    /// <summary>io_uring with the default dispatch (the thread pool).</summary>
    internal static IoUringEngine NewEngine() => (IoUringEngine)EngineFactory.Create(new EngineOptions
    {
        Backend = BackendKind.IoUring,
        Dispatch = CompletionDispatch.ThreadPool,
    });

    private static async Task<int> RingThreadAsync(IoUringEngine engine)
    {
        var clock = Stopwatch.StartNew();
        while (engine.RingThreadId == 0 && clock.Elapsed < Net.StepTimeout)
        {
            await Task.Delay(1);
        }

        Assert.That(engine.RingThreadId, Is.GreaterThan(0), "the ring thread says who it is when it starts");
        return engine.RingThreadId;
    }

    /// <summary>Whether the thread's policy is (or within a second becomes) <paramref name="policy"/>:
    /// the ring thread may still be finishing the iteration in which the last batch ended.</summary>
    private static async Task<bool> PolicySettlesAsync(int tid, int policy)
    {
        var clock = Stopwatch.StartNew();
        while (Policy(tid) != policy)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(1))
            {
                return false;
            }

            await Task.Delay(1);
        }

        return true;
    }

    private static int Policy(int tid)
    {
        int policy = SchedGetScheduler(tid);
        Assert.That(policy, Is.GreaterThanOrEqualTo(0), $"sched_getscheduler({tid}) failed: errno {Marshal.GetLastPInvokeError()}");
        return policy;
    }

    [LibraryImport("libc", EntryPoint = "sched_getscheduler", SetLastError = true)]
    private static partial int SchedGetScheduler(int pid);
}
