using System;
using System.Collections.Generic;
using System.Linq;
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
}
