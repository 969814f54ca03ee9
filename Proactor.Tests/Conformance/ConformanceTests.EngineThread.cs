using System;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>
/// Completions are delivered by the engine only: a thread that cancels, times out or closes
/// requests the end, and the engine's loop (or completion port) completes the operation. With
/// inline dispatch the continuation therefore runs on an engine thread; with any other dispatch it
/// never runs on the requesting thread.
/// </summary>
public abstract partial class ConformanceTests
{
    /// <summary>Where a continuation ran, and how its operation ended.</summary>
    private readonly record struct ContinuationSeen(bool OnEngineThread, int ThreadId, int Bytes, Exception? Error);

    /// <summary>
    /// Awaits <paramref name="operation"/> in an async method of its own, started on the thread
    /// pool (no synchronization context), and records what the code after that await sees: the
    /// thread it runs on is the one that delivered the completion (inline dispatch) or the one the
    /// dispatch chose.
    /// </summary>
    private Task<ContinuationSeen> ObserveContinuationAsync(Func<ValueTask<int>> operation)
    {
        ProactorEngine engine = Engine;
        return Task.Run(async () =>
        {
            ValueTask<int> pending = operation();
            Assert.That(pending.IsCompleted, Is.False, "the operation must still be pending when the end is requested");
            try
            {
                int bytes = await pending;
                return new ContinuationSeen(engine.IsEngineThread, Environment.CurrentManagedThreadId, bytes, null);
            }
            catch (Exception e)
            {
                return new ContinuationSeen(engine.IsEngineThread, Environment.CurrentManagedThreadId, 0, e);
            }
        });
    }

    /// <summary>Runs <paramref name="request"/> on a thread of its own (never a pool or engine thread); returns its id.</summary>
    private static int RunOnOwnThread(Action request)
    {
        int id = 0;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            id = Environment.CurrentManagedThreadId;
            try
            {
                request();
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        { IsBackground = true, Name = "test-requester" };
        thread.Start();
        Assert.That(thread.Join(Net.StepTimeout), Is.True, "the requesting thread did not return");
        Assert.That(failure, Is.Null, $"the request threw: {failure}");
        return id;
    }

    private void AssertDeliveredByTheEngine(ContinuationSeen seen, int requesterThreadId)
    {
        if (Engine.Dispatch == CompletionDispatch.Inline)
        {
            Assert.That(seen.OnEngineThread, Is.True,
                $"with inline dispatch the continuation must run on an engine thread, not on thread {seen.ThreadId} (the requester was {requesterThreadId})");
        }
        else
        {
            Assert.That(seen.ThreadId, Is.Not.EqualTo(requesterThreadId), "the requesting thread ran the continuation itself");
        }
    }

    [Test]
    public async Task Cancelling_a_pending_receive_from_another_thread_completes_it_on_the_engine()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            using var cts = new CancellationTokenSource();
            Task<ContinuationSeen> seen = ObserveContinuationAsync(() => server.ReceiveAsync(new byte[8], cts.Token));
            await Task.Delay(50);
            int requester = RunOnOwnThread(cts.Cancel);

            ContinuationSeen result = await seen.Timeout();
            Assert.That(result.Error, Is.InstanceOf<OperationCanceledException>());
            AssertDeliveredByTheEngine(result, requester);
        }
    }

    [Test]
    public async Task Cancelling_a_receive_queued_behind_another_from_another_thread_completes_it_on_the_engine()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            byte[] first = new byte[8];
            ValueTask<int> head = server.ReceiveAsync(first);
            using var cts = new CancellationTokenSource();
            Task<ContinuationSeen> seen = ObserveContinuationAsync(() => server.ReceiveAsync(new byte[8], cts.Token));
            await Task.Delay(50);
            int requester = RunOnOwnThread(cts.Cancel);

            ContinuationSeen result = await seen.Timeout();
            Assert.That(result.Error, Is.InstanceOf<OperationCanceledException>());
            AssertDeliveredByTheEngine(result, requester);

            // The receive ahead of it is untouched and still gets the next bytes.
            await client.SendAsync(new byte[] { 5 }).Timeout();
            Assert.That(await head.Timeout(), Is.EqualTo(1));
            Assert.That(first[0], Is.EqualTo(5));
        }
    }

    [Test]
    public async Task Disposing_a_socket_from_another_thread_completes_its_pending_receives_on_the_engine()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        {
            Task<ContinuationSeen> first = ObserveContinuationAsync(() => server.ReceiveAsync(new byte[8]));
            await Task.Delay(20);
            Task<ContinuationSeen> second = ObserveContinuationAsync(() => server.ReceiveAsync(new byte[8]));
            await Task.Delay(50);
            int requester = RunOnOwnThread(server.Dispose);

            foreach (ContinuationSeen result in new[] { await first.Timeout(), await second.Timeout() })
            {
                Assert.That(result.Error, Is.InstanceOf<SocketException>().With.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.OperationAborted));
                AssertDeliveredByTheEngine(result, requester);
            }
        }
    }

    [Test]
    public async Task A_timeout_completes_a_receive_on_the_engine_whether_it_is_in_flight_or_queued()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            Task<ContinuationSeen> head = ObserveContinuationAsync(() => server.ReceiveAsync(new byte[8], TimeSpan.FromMilliseconds(100)));
            await Task.Delay(20);
            Task<ContinuationSeen> queued = ObserveContinuationAsync(() => server.ReceiveAsync(new byte[8], TimeSpan.FromMilliseconds(50)));

            foreach (ContinuationSeen result in new[] { await queued.Timeout(), await head.Timeout() })
            {
                Assert.That(result.Error, Is.InstanceOf<SocketException>().With.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.TimedOut));

                // The engine's timers run on its thread: no other thread requested this end.
                if (Engine.Dispatch == CompletionDispatch.Inline)
                {
                    Assert.That(result.OnEngineThread, Is.True, "with inline dispatch a timed-out receive must complete on an engine thread");
                }
            }
        }
    }

    /// <summary>
    /// A receive with a timeout whose continuation issues the next receive with a timeout on the
    /// same socket, from inside the completion of the first: the operation object is reused and its
    /// deadline re-armed while the first deadline's callback may still be on the stack. Every
    /// deadline must still fire (the receives wait behind one without a timeout, so each is queued).
    /// </summary>
    [Test]
    public async Task Receives_with_a_timeout_issued_again_from_their_own_continuations_all_time_out()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            ValueTask<int> head = server.ReceiveAsync(new byte[8]); // holds the socket's receive side
            const int Rounds = 5;
            int timedOut = 0;
            var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

            async Task LoopAsync()
            {
                try
                {
                    for (int i = 0; i < Rounds; i++)
                    {
                        try
                        {
                            await server.ReceiveAsync(new byte[8], TimeSpan.FromMilliseconds(30));
                            done.TrySetException(new AssertionException($"round {i}: the receive got data, but none was sent"));
                            return;
                        }
                        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
                        {
                            timedOut++; // continues right here: on the engine's thread with inline dispatch
                        }
                    }

                    done.TrySetResult(timedOut);
                }
                catch (Exception e)
                {
                    done.TrySetException(e);
                }
            }

            _ = Task.Run(LoopAsync);
            Assert.That(await done.Task.Timeout(), Is.EqualTo(Rounds), "every re-armed deadline must fire");

            await client.SendAsync(new byte[] { 9 }).Timeout();
            Assert.That(await head.Timeout(), Is.EqualTo(1), "the receive ahead of them is untouched");
        }
    }
}
