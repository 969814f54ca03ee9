using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;

namespace Proactor;

/// <summary>
/// The library's instruments, under the meter name <c>Proactor</c> (listen with
/// <c>dotnet-counters monitor --counters Proactor</c> or a MeterListener). Every measurement is
/// tagged with <c>backend</c> (the engine's <see cref="ProactorEngine.Name"/>) and <c>engine</c>
/// (its <see cref="ProactorEngine.InstanceName"/>, distinct per loop of a group).
/// </summary>
/// <remarks>
/// The per-operation figures (operations, bytes, accepts, loop iterations, handler time) are
/// observable instruments read from each engine's plain counters when a listener collects: the
/// hot path pays one interlocked add per figure, listener or not, and never allocates. Rare
/// events (fallbacks, timeouts, slow handlers, accept errors) are recorded as they happen.
/// </remarks>
internal static class ProactorMetrics
{
    public const string MeterName = "Proactor";

    /// <summary>Tag values of <see cref="OperationResult"/>, indexed by its value.</summary>
    internal static readonly string[] ResultNames = ["success", "cancelled", "timed_out", "aborted", "error"];

    /// <summary>Tag values of <see cref="OperationKind"/>, indexed by its value: one per kind, so a
    /// kind added to the enum must be named here too (the statistics arrays are sized from it).</summary>
    internal static readonly string[] KindNames = ["receive", "send", "accept", "connect", "poll"];

    private static readonly Meter s_meter = new(MeterName);
    private static readonly Lock s_enginesLock = new();
    private static readonly List<ProactorEngine> s_engines = new();

    /// <summary>Inline continuations that held the loop thread past the warning threshold.</summary>
    public static readonly Counter<long> SlowInlineHandlers =
        s_meter.CreateCounter<long>("proactor.inline_handler.slow", unit: "{handler}",
            description: "Inline continuations that held an engine's loop thread past the warning threshold.");

    /// <summary>Engines that could not use the preferred backend and fell back to another.</summary>
    public static readonly Counter<long> BackendFallbacks =
        s_meter.CreateCounter<long>("proactor.backend.fallbacks", unit: "{engine}",
            description: "Engines created on a fallback backend, tagged with what they fell back from and why.");

    /// <summary>Operations that ended by their deadline.</summary>
    public static readonly Counter<long> TimedOutOperations =
        s_meter.CreateCounter<long>("proactor.operations.timed_out", unit: "{operation}",
            description: "Operations completed with TimedOut by their per-operation timeout.");

    /// <summary>Accepts of a group listener that failed and were retried, tagged with the error.</summary>
    public static readonly Counter<long> AcceptErrors =
        s_meter.CreateCounter<long>("proactor.accept.errors", unit: "{error}",
            description: "Failed accepts a group listener retried (out of descriptors or buffers, a connection reset in the backlog), tagged with the error.");

    static ProactorMetrics()
    {
        s_meter.CreateObservableCounter("proactor.operations.started", ObserveStarted, unit: "{operation}",
            description: "Operations submitted, by kind.");
        s_meter.CreateObservableCounter("proactor.operations.completed", ObserveCompleted, unit: "{operation}",
            description: "Operations completed, by kind and result (success, cancelled, timed_out, aborted, error).");
        s_meter.CreateObservableUpDownCounter("proactor.operations.pending", ObservePending, unit: "{operation}",
            description: "Operations submitted and not yet completed, by kind.");
        s_meter.CreateObservableCounter("proactor.bytes.received", static () => ObserveEach(static s => s.BytesReceived), unit: "By",
            description: "Bytes received by completed receives.");
        s_meter.CreateObservableCounter("proactor.bytes.sent", static () => ObserveEach(static s => s.BytesSent), unit: "By",
            description: "Bytes sent by completed (or timed-out, in part) sends.");
        s_meter.CreateObservableUpDownCounter("proactor.sockets.open", static () => ObserveEach(static s => s.Engine.SocketCount), unit: "{socket}",
            description: "Open sockets, listeners included.");
        s_meter.CreateObservableCounter("proactor.connections.accepted", static () => ObserveEach(static s => s.Accepted), unit: "{connection}",
            description: "Connections accepted.");
        s_meter.CreateObservableCounter("proactor.loop.iterations", static () => ObserveEach(static s => s.LoopIterations), unit: "{iteration}",
            description: "Iterations of the engine's loop or completion-port thread (one wait and what it returned).");
        s_meter.CreateObservableCounter("proactor.loop.handler_time", ObserveHandlerTime, unit: "s",
            description: "Time the loop thread spent running inline continuations (CompletionDispatch.Inline).");
    }

    public static KeyValuePair<string, object?> EngineTag(ProactorEngine engine) => new("engine", engine.InstanceName);

    public static KeyValuePair<string, object?> BackendTag(ProactorEngine engine) => new("backend", engine.Name);

    /// <summary>Counts an engine made on a fallback backend.</summary>
    public static void RecordFallback(ProactorEngine engine, string from, string? reason) =>
        BackendFallbacks.Add(1, BackendTag(engine), EngineTag(engine),
            new KeyValuePair<string, object?>("from", from), new KeyValuePair<string, object?>("reason", reason));

    /// <summary>An engine whose thread runs: its figures are observed until it is disposed.
    /// Idempotent (an engine may have several threads).</summary>
    internal static void Track(ProactorEngine engine)
    {
        lock (s_enginesLock)
        {
            // Dispose marks the engine before it untracks under this lock: a thread starting late
            // cannot add it back.
            if (!engine.IsDisposed && !s_engines.Contains(engine))
            {
                s_engines.Add(engine);
            }
        }
    }

    internal static void Untrack(ProactorEngine engine)
    {
        lock (s_enginesLock)
        {
            s_engines.Remove(engine);
        }
    }

    private static ProactorEngine[] Engines()
    {
        lock (s_enginesLock)
        {
            return [.. s_engines];
        }
    }

    private static List<Measurement<long>> ObserveEach(System.Func<EngineStatistics, long> read)
    {
        var list = new List<Measurement<long>>();
        foreach (ProactorEngine engine in Engines())
        {
            list.Add(new Measurement<long>(read(engine.Statistics), BackendTag(engine), EngineTag(engine)));
        }

        return list;
    }

    private static List<Measurement<long>> ObserveStarted()
    {
        var list = new List<Measurement<long>>();
        foreach (ProactorEngine engine in Engines())
        {
            for (int kind = 0; kind < KindNames.Length; kind++)
            {
                // A series appears once it counts something: a dashboard gets no rows of zeros
                // for kinds an engine never runs (a counter's absent series reads as zero).
                long started = engine.Statistics.Started((OperationKind)kind);
                if (started != 0)
                {
                    list.Add(new Measurement<long>(started, BackendTag(engine), EngineTag(engine), new("kind", KindNames[kind])));
                }
            }
        }

        return list;
    }

    private static List<Measurement<long>> ObservePending()
    {
        var list = new List<Measurement<long>>();
        foreach (ProactorEngine engine in Engines())
        {
            for (int kind = 0; kind < KindNames.Length; kind++)
            {
                // Once a kind ran, its series stays (also at zero: a gauge's absent series would
                // keep showing its last value).
                if (engine.Statistics.Started((OperationKind)kind) != 0)
                {
                    list.Add(new Measurement<long>(engine.Statistics.Pending((OperationKind)kind),
                        BackendTag(engine), EngineTag(engine), new("kind", KindNames[kind])));
                }
            }
        }

        return list;
    }

    private static List<Measurement<long>> ObserveCompleted()
    {
        var list = new List<Measurement<long>>();
        foreach (ProactorEngine engine in Engines())
        {
            for (int kind = 0; kind < KindNames.Length; kind++)
            {
                for (int result = 0; result < ResultNames.Length; result++)
                {
                    long completed = engine.Statistics.Completed((OperationKind)kind, (OperationResult)result);
                    if (completed != 0)
                    {
                        list.Add(new Measurement<long>(completed,
                            [BackendTag(engine), EngineTag(engine), new("kind", KindNames[kind]), new("result", ResultNames[result])]));
                    }
                }
            }
        }

        return list;
    }

    private static List<Measurement<double>> ObserveHandlerTime()
    {
        var list = new List<Measurement<double>>();
        foreach (ProactorEngine engine in Engines())
        {
            list.Add(new Measurement<double>(engine.Statistics.HandlerSeconds, BackendTag(engine), EngineTag(engine)));
        }

        return list;
    }
}
