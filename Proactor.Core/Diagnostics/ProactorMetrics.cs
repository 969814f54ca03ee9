using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace Proactor;

/// <summary>
/// The library's instruments, under the meter name <c>Proactor</c> (listen with
/// <c>dotnet-counters monitor --counters Proactor</c> or a MeterListener). Each measurement is
/// tagged with the engine's name. Instruments cost a branch when nobody listens.
/// </summary>
internal static class ProactorMetrics
{
    public const string MeterName = "Proactor";

    private static readonly Meter s_meter = new(MeterName);

    /// <summary>Inline continuations that held the loop thread past the warning threshold.</summary>
    public static readonly Counter<long> SlowInlineHandlers =
        s_meter.CreateCounter<long>("proactor.inline_handler.slow", unit: "{handler}",
            description: "Inline continuations that held an engine's loop thread past the warning threshold.");

    /// <summary>Engines that could not use the preferred backend and fell back to another.</summary>
    public static readonly Counter<long> BackendFallbacks =
        s_meter.CreateCounter<long>("proactor.backend.fallbacks", unit: "{engine}",
            description: "Engines created on a fallback backend, tagged with the reason.");

    /// <summary>Operations that ended by their deadline.</summary>
    public static readonly Counter<long> TimedOutOperations =
        s_meter.CreateCounter<long>("proactor.operations.timed_out", unit: "{operation}",
            description: "Operations completed with TimedOut by their per-operation timeout.");

    /// <summary>Accepts of a group listener that failed and were retried, tagged with the error.</summary>
    public static readonly Counter<long> AcceptErrors =
        s_meter.CreateCounter<long>("proactor.accept.errors", unit: "{error}",
            description: "Failed accepts a group listener retried (out of descriptors or buffers, a connection reset in the backlog), tagged with the error.");

    public static KeyValuePair<string, object?> EngineTag(ProactorEngine engine) => new("engine", engine.Name);
}
