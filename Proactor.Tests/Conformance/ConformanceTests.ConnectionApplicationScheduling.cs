using System;
using System.IO.Pipelines;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Pipelines;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>Where a <see cref="ProactorConnection"/> resumes its application by default: on the
/// pool, never on the loop thread, in batches per loop iteration with inline dispatch.</summary>
public abstract partial class ConformanceTests
{
    private const int ScheduledConnections = 8;

    /// <summary>
    /// Server side of one connection, awaited directly (no timeout wrapper between the pipe and
    /// this code), so what follows the await runs where the connection's application scheduler
    /// put it. Records whether that was a loop thread; the first connection blocks there until
    /// every other one has answered, as a handler that blocks would.
    /// </summary>
    private async Task<bool> AnswerOneAsync(ProactorConnection connection, ManualResetEventSlim? blockUntil)
    {
        ReadResult read = await connection.Input.ReadAsync();
        bool onLoop = Engine.IsEngineThread;
        if (blockUntil is not null && !blockUntil.Wait(TimeSpan.FromSeconds(60)))
        {
            throw new TimeoutException("the others never answered while this handler blocked");
        }

        long length = read.Buffer.Length;
        connection.Input.AdvanceTo(read.Buffer.End);
        connection.Output.GetSpan(1)[0] = (byte)length;
        connection.Output.Advance(1);
        await connection.Output.FlushAsync();
        return onLoop;
    }

    [Test]
    public async Task Connection_reads_resume_off_the_loop_and_a_blocked_handler_does_not_hold_up_other_connections()
    {
        var pairs = new (ProactorSocket Client, ProactorConnection Server)[ScheduledConnections];
        for (int i = 0; i < pairs.Length; i++)
        {
            pairs[i] = await ConnectionPairAsync().Timeout();
        }

        using var othersAnswered = new ManualResetEventSlim();
        try
        {
            Task<bool>[] handlers = pairs.Select((p, i) => AnswerOneAsync(p.Server, i == 0 ? othersAnswered : null)).ToArray();

            // Back to back, so that several arrive in one loop iteration (one batch) with the
            // blocking one first.
            for (int i = 0; i < pairs.Length; i++)
            {
                await pairs[i].Client.SendAsync(new byte[] { 1, 2, 3 }).Timeout();
            }

            byte[] reply = new byte[1];
            for (int i = 1; i < pairs.Length; i++)
            {
                Assert.That(await pairs[i].Client.ReceiveAsync(reply).Timeout(), Is.EqualTo(1), $"connection {i} answered");
                Assert.That(reply[0], Is.EqualTo(3), $"connection {i} read the 3 bytes sent");
            }

            othersAnswered.Set();
            Assert.That(await pairs[0].Client.ReceiveAsync(reply).Timeout(), Is.EqualTo(1), "the blocked handler answered once released");
            bool[] onLoop = await Task.WhenAll(handlers).Timeout();
            Assert.That(onLoop, Has.None.True, $"a connection's application continuation ran on {Engine.Name}'s loop thread");
        }
        finally
        {
            othersAnswered.Set();
            foreach (var (client, server) in pairs)
            {
                client.Dispose();
                await server.DisposeAsync().AsTask().Timeout();
            }
        }
    }

    [Test]
    public async Task With_inline_dispatch_reads_resumed_by_the_loop_reach_the_pool_in_per_iteration_batches()
    {
        if (Engine.Dispatch != CompletionDispatch.Inline)
        {
            Assert.Ignore("Only inline dispatch resumes the application from the loop thread; pool dispatch runs it where the receive was delivered.");
        }

        var pairs = new (ProactorSocket Client, ProactorConnection Server)[ScheduledConnections];
        for (int i = 0; i < pairs.Length; i++)
        {
            pairs[i] = await ConnectionPairAsync().Timeout();
        }

        try
        {
            const int Rounds = 50;
            long deferredBefore = Engine.ApplicationWork.Deferred, itemsBefore = Engine.ApplicationWork.WorkItems;
            byte[] reply = new byte[1];
            for (int round = 0; round < Rounds; round++)
            {
                Task<bool>[] handlers = pairs.Select(p => AnswerOneAsync(p.Server, null)).ToArray();
                foreach (var (client, _) in pairs)
                {
                    await client.SendAsync(new byte[] { 7 }).Timeout();
                }

                foreach (var (client, _) in pairs)
                {
                    Assert.That(await client.ReceiveAsync(reply).Timeout(), Is.EqualTo(1));
                }

                Assert.That(await Task.WhenAll(handlers).Timeout(), Has.None.True, "an application continuation ran on the loop thread");
            }

            long deferred = Engine.ApplicationWork.Deferred - deferredBefore;
            long items = Engine.ApplicationWork.WorkItems - itemsBefore;
            TestContext.Out.WriteLine($"{Engine.Name}: {Rounds * ScheduledConnections} reads, {deferred} resumed at the end of a loop iteration, in {items} pool work items");

            // Every read here is resumed by a receive's continuation on the loop thread; each must
            // wait for the iteration's end. How many share a work item depends on how many
            // arrivals one iteration sees, so only the bound is asserted.
            Assert.That(deferred, Is.EqualTo(Rounds * ScheduledConnections), "reads resumed from the loop thread were not deferred to the iteration's end");
            Assert.That(items, Is.LessThanOrEqualTo(deferred));
        }
        finally
        {
            foreach (var (client, server) in pairs)
            {
                client.Dispose();
                await server.DisposeAsync().AsTask().Timeout();
            }
        }
    }
}
