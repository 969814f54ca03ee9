using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>
/// Thread-pool dispatch hands an engine's completions to the pool in batches (one work item runs
/// several continuations). What must still hold: a continuation that blocks blocks only its own
/// thread, a captured context is still honoured, and work a blocked continuation posts to the
/// engine still gets done.
/// </summary>
public abstract partial class ConformanceTests
{
    [Test]
    public async Task Thread_pool_dispatch_a_blocking_continuation_does_not_hold_up_the_others_of_its_batch()
    {
        const int Receives = 12;
        using ProactorEngine engine = CreateVariant(o => o with { Dispatch = CompletionDispatch.ThreadPool });
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            // Twelve one-byte receives queued on one socket, then the twelve bytes in one send: an
            // engine that completes what is ready in one pass (the emulated ones) puts them all in
            // one batch, the blocking one at its head.
            using var othersDone = new CountdownEvent(Receives - 1);
            bool blockerSawOthers = false;
            var receives = new Task<int>[Receives];
            for (int i = 0; i < Receives; i++)
            {
                int index = i;
                receives[i] = ReceiveThenAsync(server, () =>
                {
                    if (index == 0)
                    {
                        // Blocks its pool thread until every other continuation ran: those behind
                        // it in the batch must have gone on without it.
                        blockerSawOthers = othersDone.Wait(Net.StepTimeout);
                    }
                    else
                    {
                        othersDone.Signal();
                    }
                });
            }

            await client.SendAsync(Enumerable.Range(0, Receives).Select(i => (byte)i).ToArray()).Timeout();
            int[] received = await Task.WhenAll(receives).Timeout();
            Assert.Multiple(() =>
            {
                Assert.That(received, Is.EqualTo(Enumerable.Range(0, Receives).ToArray()), "each receive its byte, in submission order");
                Assert.That(blockerSawOthers, Is.True, "the continuations behind a blocking one must run meanwhile");
            });
        }
    }

    [Test]
    public async Task Thread_pool_dispatch_a_continuation_may_block_on_an_operation_it_started_on_the_same_engine()
    {
        using ProactorEngine engine = CreateVariant(o => o with { Dispatch = CompletionDispatch.ThreadPool });
        var (clientA, serverA) = await Net.ConnectedPairAsync(engine);
        var (clientB, serverB) = await Net.ConnectedPairAsync(engine);
        using (clientA)
        using (serverA)
        using (clientB)
        using (serverB)
        {
            using var secondStarted = new ManualResetEventSlim();
            byte[] second = new byte[3];
            int secondBytes = -1;
            Task<int> first = ReceiveThenAsync(serverA, () =>
            {
                // Inside the batch: this receive is surely pending (nothing was sent to B yet),
                // so only the engine can complete it, and the batch does not end until it does.
                Task<int> receive = serverB.ReceiveAsync(second).AsTask();
                secondStarted.Set();
                secondBytes = receive.Wait(Net.StepTimeout) ? receive.Result : -2;
            });

            await clientA.SendAsync(new byte[] { 7 }).Timeout();
            await Task.Run(() => secondStarted.Wait(Net.StepTimeout)).Timeout();
            await clientB.SendAsync(new byte[] { 1, 2, 3 }).Timeout();
            int firstBytes = await first.Timeout();
            Assert.Multiple(() =>
            {
                Assert.That(firstBytes, Is.EqualTo(7));
                Assert.That(secondBytes, Is.EqualTo(3), "the receive a blocked continuation waits for must complete");
                Assert.That(second, Is.EqualTo(new byte[] { 1, 2, 3 }));
            });
        }
    }

    [Test]
    public async Task Thread_pool_dispatch_posts_continuations_to_a_captured_synchronization_context()
    {
        using ProactorEngine engine = CreateVariant(o => o with { Dispatch = CompletionDispatch.ThreadPool });
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            using var context = new CountingContext();
            var ran = new TaskCompletionSource<(int Posts, bool OnContext, int Bytes)>(TaskCreationOptions.RunContinuationsAsynchronously);
            context.Post(async _ =>
            {
                try
                {
                    byte[] buffer = new byte[4];
                    ValueTask<int> receive = server.ReceiveAsync(buffer);
                    int postsBefore = context.Posts;
                    int n = await receive; // captures the context: must come back through it
                    ran.TrySetResult((context.Posts - postsBefore, CountingContext.Current == context, n));
                }
                catch (Exception e)
                {
                    ran.TrySetException(e);
                }
            }, null);

            await Task.Delay(20);
            await client.SendAsync(new byte[] { 9, 8 }).Timeout();
            var (posts, onContext, bytes) = await ran.Task.Timeout();
            Assert.Multiple(() =>
            {
                Assert.That(bytes, Is.EqualTo(2));
                Assert.That(posts, Is.GreaterThanOrEqualTo(1), "the continuation must be posted to the captured context");
                Assert.That(onContext, Is.True, "the continuation must run inside the captured context");
            });
        }
    }

    /// <summary>Awaits a one-byte receive on <paramref name="socket"/>, then runs <paramref name="then"/>
    /// on the continuation's own thread (where the engine dispatched it); returns the byte.</summary>
    private static async Task<int> ReceiveThenAsync(ProactorSocket socket, Action then)
    {
        byte[] buffer = new byte[1];
        int n = await socket.ReceiveAsync(buffer); // a bare await: the continuation runs where the engine puts it
        Assert.That(n, Is.EqualTo(1));
        then();
        return buffer[0];
    }

    /// <summary>A single-threaded context that counts what is posted to it.</summary>
    private sealed class CountingContext : SynchronizationContext, IDisposable
    {
        private readonly System.Collections.Concurrent.BlockingCollection<(SendOrPostCallback, object?)> _work = new();
        private readonly Thread _thread;
        private int _posts;

        public CountingContext()
        {
            _thread = new Thread(() =>
            {
                SetSynchronizationContext(this);
                foreach (var (callback, state) in _work.GetConsumingEnumerable())
                {
                    callback(state);
                }
            })
            { IsBackground = true, Name = "counting-context" };
            _thread.Start();
        }

        public int Posts => Volatile.Read(ref _posts);

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posts);
            _work.Add((d, state));
        }

        public void Dispose()
        {
            _work.CompleteAdding();
            _thread.Join(Net.StepTimeout);
            _work.Dispose();
        }
    }
}
