using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using NUnit.Framework;
using Proactor.Managed;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Core;

/// <summary>Engine names, the managed fallback's selection, and warnings through an <see cref="ILogger"/>.</summary>
[TestFixture]
[NonParallelizable]
public sealed class ObservabilityTests
{
    // The per-engine totals are arrays indexed by kind and result: a kind without its tag (the
    // Reactor's Poll was once added without one) indexes past the end on the loop thread.
    [Test]
    public void Every_operation_kind_and_result_has_its_own_metric_tag()
    {
        Assert.That(ProactorMetrics.KindNames, Has.Length.EqualTo(Enum.GetValues<OperationKind>().Length).And.Unique);
        Assert.That(ProactorMetrics.ResultNames, Has.Length.EqualTo(Enum.GetValues<OperationResult>().Length).And.Unique);
    }

    [Test]
    public void The_loops_of_a_group_have_distinct_instance_names()
    {
        using ProactorEngineGroup group = EngineFactory.CreateGroup(3, new EngineOptions { Backend = BackendKind.Managed });
        string[] names = group.Engines.Select(e => e.InstanceName).ToArray();
        Assert.That(names, Is.Unique);
        Assert.That(names, Has.All.StartWith("managed-"));

        using ProactorEngineGroup named = EngineFactory.CreateGroup(2, new EngineOptions { Backend = BackendKind.Managed, InstanceName = "web" });
        Assert.That(named.Engines.Select(e => e.InstanceName), Is.EqualTo(new[] { "web-0", "web-1" }));
    }

    [Test]
    public void Each_loop_of_a_group_reports_its_own_open_sockets()
    {
        using ProactorEngineGroup group = EngineFactory.CreateGroup(2, new EngineOptions { Backend = BackendKind.Managed });
        using var first = new MetricsCollector(group.Engines[0].InstanceName);
        using var second = new MetricsCollector(group.Engines[1].InstanceName);
        using var a = new ProactorSocket(group.Engines[0], System.Net.Sockets.AddressFamily.InterNetwork);
        using var b = new ProactorSocket(group.Engines[1], System.Net.Sockets.AddressFamily.InterNetwork);
        using var c = new ProactorSocket(group.Engines[1], System.Net.Sockets.AddressFamily.InterNetwork);
        first.Collect();
        second.Collect();
        Assert.That(first.Get("proactor.sockets.open"), Is.EqualTo(1));
        Assert.That(second.Get("proactor.sockets.open"), Is.EqualTo(2));
    }

    [Test]
    public async Task On_an_OS_without_a_native_backend_the_managed_engine_says_why_through_the_logger_and_the_fallback_metric()
    {
        var logger = new RecordingLogger();
        using ProactorEngine engine = ManagedEngine.CreateAsFallback(new EngineOptions { Logger = logger }, "TestOS 1.0");
        using var metrics = new MetricsCollector(engine.InstanceName);

        Assert.That(engine.Backend, Is.EqualTo(BackendKind.Managed));
        Assert.That(engine.FallbackReason, Does.Contain("no native backend").And.Contain("TestOS 1.0"));
        LogEntry entry = logger.Entries.Single();
        Assert.That(entry.Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(entry.EventId.Id, Is.EqualTo(3));
        Assert.That(entry.EventId.Name, Is.EqualTo("BackendFallback"));
        Assert.That(entry.Message, Does.Contain(engine.FallbackReason));

        // It is a working engine.
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            await client.SendAsync(new byte[] { 42 }).Timeout();
            byte[] got = new byte[1];
            Assert.That(await server.ReceiveAsync(got).Timeout(), Is.EqualTo(1));
            Assert.That(got[0], Is.EqualTo(42));
        }
    }

    [Test]
    public void The_fallback_is_counted_with_its_origin_and_reason()
    {
        var fallbacks = new List<string>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (i.Name == "proactor.backend.fallbacks")
                {
                    l.EnableMeasurementEvents(i);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, v, tags, _) =>
        {
            lock (fallbacks)
            {
                fallbacks.Add(string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}")) + $":{v}");
            }
        });
        listener.Start();

        using ProactorEngine engine = ManagedEngine.CreateAsFallback(new EngineOptions { Warning = _ => { } }, "TestOS 1.0");
        lock (fallbacks)
        {
            Assert.That(fallbacks, Does.Contain($"backend=managed,engine={engine.InstanceName},from=native,reason=unsupported-os:1"));
        }
    }

    [Test]
    public async Task A_slow_inline_handler_is_logged_as_a_warning_with_its_event_id()
    {
        var logger = new RecordingLogger();
        var options = new EngineOptions
        {
            Backend = BackendKind.Managed,
            Dispatch = CompletionDispatch.Inline,
            InlineHandlerWarningThreshold = TimeSpan.FromMilliseconds(1),
            Logger = logger,
        };
        using ProactorEngine engine = EngineFactory.Create(options);
        bool onLoop;
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            Task<bool> blocking = BlockInlineAsync(server);
            await client.SendAsync(new byte[] { 1 }).Timeout();
            onLoop = await blocking.Timeout();
        }

        await ReportedAsync(() => logger.Entries.Any(e => e.EventId.Id == 1));
        Assert.That(onLoop, Is.True, "the handler ran on the loop thread");
        LogEntry entry = logger.Entries.First(e => e.EventId.Id == 1);
        Assert.That(entry.Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(entry.EventId.Name, Is.EqualTo("SlowInlineHandler"));
        Assert.That(entry.Message, Does.Contain(engine.InstanceName).And.Contain("inline continuation"));
        Assert.That(engine.SlowInlineHandlerCount, Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public async Task Without_a_logger_the_Warning_callback_still_receives_the_warnings()
    {
        var warnings = new List<string>();
        var options = new EngineOptions
        {
            Backend = BackendKind.Managed,
            Dispatch = CompletionDispatch.Inline,
            InlineHandlerWarningThreshold = TimeSpan.FromMilliseconds(1),
            Warning = m => { lock (warnings) { warnings.Add(m); } },
        };
        using ProactorEngine engine = EngineFactory.Create(options);
        bool onLoop;
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            Task<bool> blocking = BlockInlineAsync(server);
            await client.SendAsync(new byte[] { 1 }).Timeout();
            onLoop = await blocking.Timeout();
        }

        await ReportedAsync(() => { lock (warnings) { return warnings.Count > 0; } });
        Assert.That(onLoop, Is.True, "the handler ran on the loop thread");
        lock (warnings)
        {
            Assert.That(warnings, Has.Some.Contain("inline continuation"));
        }
    }

    // Without a logger or a Warning callback, warnings go to standard error, on the loop thread.
    // Console.Error can throw (every descriptor in use when it first duplicates descriptor 2, a
    // writer the application installed): the loop must lose the line, not its thread.
    [Test]
    public async Task A_standard_error_that_throws_loses_the_warning_and_the_engine_goes_on()
    {
        var options = new EngineOptions
        {
            Backend = BackendKind.Managed,
            Dispatch = CompletionDispatch.Inline,
            InlineHandlerWarningThreshold = TimeSpan.FromMilliseconds(1),
            WarningInterval = TimeSpan.Zero, // every slow handler is reported, also after one while connecting
        };
        var throwing = new ThrowingWriter();
        System.IO.TextWriter original = Console.Error;
        Console.SetError(throwing);
        try
        {
            using ProactorEngine engine = EngineFactory.Create(options);
            var (client, server) = await Net.ConnectedPairAsync(engine);
            using (client)
            using (server)
            {
                Task<bool> blocking = BlockInlineAsync(server);
                await client.SendAsync(new byte[] { 1 }).Timeout();
                Assert.That(await blocking.Timeout(), Is.True, "the handler ran on the loop thread");
                await ReportedAsync(() => engine.SlowInlineHandlerCount > 0 && throwing.Attempts > 0);
                Assert.That(engine.SlowInlineHandlerCount, Is.GreaterThanOrEqualTo(1));
                Assert.That(throwing.Attempts, Is.GreaterThanOrEqualTo(1), "the warning went to standard error");

                // The loop thread lives: the engine still moves bytes both ways.
                await client.SendAsync(new byte[] { 2 }).Timeout();
                byte[] got = new byte[1];
                Assert.That(await server.ReceiveAsync(got).Timeout(), Is.EqualTo(1));
                Assert.That(got[0], Is.EqualTo(2));
                await server.SendAsync(new byte[] { 3 }).Timeout();
                Assert.That(await client.ReceiveAsync(got).Timeout(), Is.EqualTo(1));
                Assert.That(got[0], Is.EqualTo(3));
            }
        }
        finally
        {
            Console.SetError(original);
        }
    }

    /// <summary>A handler that blocks the loop thread (inline dispatch) for 30 ms once a byte arrives;
    /// says whether it ran on the engine's thread, as the warning it should cause assumes.</summary>
    private static async Task<bool> BlockInlineAsync(ProactorSocket socket)
    {
        await socket.ReceiveAsync(new byte[1]);
        Thread.Sleep(30); // on the loop thread: the handler the warning is about
        return socket.Engine.IsEngineThread;
    }

    /// <summary>
    /// The loop reports a slow handler right after the handler returns, and the test's own
    /// continuation may run inline inside that handler (on the loop thread, before the report): hop
    /// to the pool, then wait a bounded while for the report. (Awaiting a <c>Task.Run</c> was not a
    /// hop: when its task had finished by the await, the wait spun on the loop thread, before the
    /// report it waited for; 4 of 190 runs of the fixture under Wine.)
    /// </summary>
    private static async Task ReportedAsync(Func<bool> reported)
    {
        await Net.ToThePool();
        SpinWait.SpinUntil(reported, TimeSpan.FromSeconds(10));
    }

    private sealed class ThrowingWriter : System.IO.TextWriter
    {
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value) => Fail();

        public override void Write(string? value) => Fail();

        public override void WriteLine(string? value) => Fail();

        private void Fail()
        {
            Interlocked.Increment(ref _attempts);
            throw new System.IO.IOException("Too many open files");
        }
    }

    private sealed record LogEntry(LogLevel Level, EventId EventId, string Message);

    private sealed class RecordingLogger : ILogger
    {
        private readonly List<LogEntry> _entries = new();

        public IReadOnlyList<LogEntry> Entries
        {
            get
            {
                lock (_entries)
                {
                    return _entries.ToArray();
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_entries)
            {
                _entries.Add(new LogEntry(logLevel, eventId, formatter(state, exception)));
            }
        }
    }
}
