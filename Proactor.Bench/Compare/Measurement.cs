using Proactor.Bench.Load;

namespace Proactor.Bench.Compare;

/// <summary>The outcome of one server on one workload.</summary>
internal sealed class Measurement
{
    public const string Ok = "ok";
    public const string WithErrors = "errors";
    public const string Failed = "failed";
    public const string Skipped = "skipped";

    public required string Server { get; init; }

    public required string Workload { get; init; }

    /// <summary><see cref="Ok"/>, <see cref="WithErrors"/> (figures, but the echo was wrong or
    /// incomplete), <see cref="Failed"/> (no figures) or <see cref="Skipped"/>.</summary>
    public required string Status { get; set; }

    /// <summary>Why it failed or was skipped.</summary>
    public string? Reason { get; set; }

    public LoadResult? Result { get; set; }

    /// <summary>Messages/s relative to System.Net.Sockets on the same workload (above 1: faster).</summary>
    public double? RatioMessagesPerSecond { get; set; }

    /// <summary>Server CPU per message relative to System.Net.Sockets (below 1: cheaper).</summary>
    public double? RatioCpuPerMessage { get; set; }

    public bool HasFigures => Result is { Fatal: null, Messages: > 0 } && Status is Ok or WithErrors;
}
