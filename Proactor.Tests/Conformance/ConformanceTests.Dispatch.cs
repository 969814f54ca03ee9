using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    /// <summary>An engine of the fixture's backend with other options.</summary>
    protected ProactorEngine CreateVariant(Func<EngineOptions, EngineOptions> change) =>
        EngineFactory.Create(change(Engine.Options));

    /// <summary>Awaits a receive that is surely pending and reports where its continuation ran.</summary>
    private static async Task<(bool OnEngineThread, bool OnThreadPool)> WhereDoesTheContinuationRunAsync(ProactorEngine engine, ProactorSocket receiver, ProactorSocket sender)
    {
        byte[] buffer = new byte[4];
        ValueTask<int> receive = receiver.ReceiveAsync(buffer);
        Assert.That(receive.IsCompleted, Is.False, "the receive must be pending for this test to mean anything");
        _ = Task.Run(async () =>
        {
            await Task.Delay(20);
            await sender.SendAsync(new byte[] { 1 });
        });

        int n = await receive; // deliberately a bare await: the continuation runs where the engine dispatches it
        bool onEngine = engine.IsEngineThread;
        bool onPool = Thread.CurrentThread.IsThreadPoolThread;
        await Task.Yield(); // leave the loop thread before asserting
        Assert.That(n, Is.EqualTo(1));
        return (onEngine, onPool);
    }

    [Test]
    public async Task Inline_dispatch_runs_continuations_on_the_engine_thread()
    {
        using ProactorEngine engine = CreateVariant(o => o with { Dispatch = CompletionDispatch.Inline });
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            var (onEngine, _) = await WhereDoesTheContinuationRunAsync(engine, server, client).Timeout();
            Assert.That(onEngine, Is.True, "an inline continuation must run on the engine's own thread");
        }
    }

    [Test]
    public async Task Thread_pool_dispatch_runs_continuations_on_the_thread_pool_not_the_engine_thread()
    {
        using ProactorEngine engine = CreateVariant(o => o with { Dispatch = CompletionDispatch.ThreadPool });
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            var (onEngine, onPool) = await WhereDoesTheContinuationRunAsync(engine, server, client).Timeout();
            Assert.Multiple(() =>
            {
                Assert.That(onEngine, Is.False, "a thread-pool continuation must not run on the engine thread");
                Assert.That(onPool, Is.True, "a thread-pool continuation must run on the thread pool");
            });
        }
    }

    [Test]
    public async Task A_socket_may_override_the_engine_dispatch()
    {
        using ProactorEngine engine = CreateVariant(o => o with { Dispatch = CompletionDispatch.ThreadPool });
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            server.Dispatch = CompletionDispatch.Inline;
            var (onEngine, _) = await WhereDoesTheContinuationRunAsync(engine, server, client).Timeout();
            Assert.That(onEngine, Is.True, "the socket's Inline override must win over the engine's ThreadPool");
            Assert.Throws<ArgumentException>(() => server.Dispatch = CompletionDispatch.Queue);
        }
    }

    [Test]
    public async Task Queue_dispatch_delivers_only_through_the_engine_completion_queue()
    {
        using ProactorEngine engine = CreateVariant(o => o with { Dispatch = CompletionDispatch.Queue });
        CompletionQueue queue = engine.Completions;
        using ProactorSocket listener = Net.Listen(engine);
        using var client = new ProactorSocket(engine, AddressFamily.InterNetwork);

        // Awaitables are refused outright: nothing may complete anywhere but the queue.
        Assert.Multiple(() =>
        {
            Assert.Throws<InvalidOperationException>(() => listener.AcceptAsync());
            Assert.Throws<InvalidOperationException>(() => client.ConnectAsync(listener.LocalEndPoint!));
            Assert.Throws<InvalidOperationException>(() => client.ReceiveAsync(new byte[1]));
        });

        queue.SubmitAccept(listener, "a");
        queue.SubmitConnect(client, listener.LocalEndPoint!, "c");
        ProactorSocket? server = null;
        for (int i = 0; i < 2; i++)
        {
            Completion c = await queue.Reader.ReadAsync().Timeout();
            Assert.That(c.IsSuccess, Is.True, c.ToString());
            server ??= c.AcceptedSocket;
        }

        using (server)
        {
            Assert.That(server, Is.Not.Null);
            queue.SubmitSend(client, new byte[] { 3, 1, 4 }, "s");
            queue.SubmitReceive(server!, new byte[3], "r");
            var tokens = new HashSet<string>();
            for (int i = 0; i < 2; i++)
            {
                Completion c = await queue.Reader.ReadAsync().Timeout();
                Assert.That(c.IsSuccess, Is.True, c.ToString());
                tokens.Add((string)c.UserToken!);
            }

            Assert.That(tokens, Is.EquivalentTo(new[] { "s", "r" }));
        }
    }

    [Test]
    public async Task A_blocking_inline_handler_is_counted_and_reported_once_per_interval()
    {
        var warnings = new List<string>();
        using ProactorEngine engine = CreateVariant(o => o with
        {
            Dispatch = CompletionDispatch.Inline,
            InlineHandlerWarningThreshold = TimeSpan.FromMilliseconds(20),
            WarningInterval = TimeSpan.FromMinutes(5),
            Warning = message => { lock (warnings) { warnings.Add(message); } },
        });
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            for (int round = 0; round < 2; round++)
            {
                await BlockTheLoopOnceAsync(server, client).Timeout();
            }

            // The count is taken when the continuation returns to the loop: allow it a moment.
            for (int i = 0; i < 100 && engine.SlowInlineHandlerCount < 2; i++)
            {
                await Task.Delay(10);
            }

            // At least the two handlers that slept; on a loaded machine a preempted handler may
            // legitimately cross the 20 ms threshold too.
            Assert.That(engine.SlowInlineHandlerCount, Is.GreaterThanOrEqualTo(2));
            lock (warnings)
            {
                Assert.That(warnings, Has.Count.EqualTo(1), "warnings are rate limited");
                Assert.That(warnings[0], Does.Contain("inline continuation"));
            }

            await AssertEngineStillEchoesAsync();
        }

        static async Task BlockTheLoopOnceAsync(ProactorSocket receiver, ProactorSocket sender)
        {
            ValueTask<int> receive = receiver.ReceiveAsync(new byte[1]);
            _ = Task.Run(async () =>
            {
                await Task.Delay(10);
                await sender.SendAsync(new byte[] { 1 });
            });
            await receive;
            Thread.Sleep(60); // a handler that blocks the loop thread
            await Task.Yield();
        }
    }
}
