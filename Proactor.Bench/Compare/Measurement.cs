using System.Collections.Generic;
using System.Linq;
using Proactor.Bench.Load;

namespace Proactor.Bench.Compare;

/// <summary>One server on one workload: every round's result, and their summary.</summary>
internal sealed class Measurement
{
    public const string Ok = "ok";
    public const string WithErrors = "errors";
    public const string Failed = "failed";
    public const string Skipped = "skipped";

    public required string Server { get; init; }

    public required string Workload { get; init; }

    /// <summary><see cref="Ok"/>, <see cref="WithErrors"/> (figures, but the echo was wrong or
    /// incomplete, or a round failed), <see cref="Failed"/> (no figures) or <see cref="Skipped"/>.</summary>
    public required string Status { get; set; }

    /// <summary>Why it failed or was skipped.</summary>
    public string? Reason { get; set; }

    /// <summary>Every round that ran, in round order (failed ones included, with their <see cref="LoadResult.Fatal"/>).</summary>
    public List<RoundResult> Rounds { get; set; } = [];

    /// <summary>The summary of the good rounds: each figure is the median over them.</summary>
    public LoadResult? Result { get; set; }

    /// <summary>Messages/s over the good rounds.</summary>
    public Spread? MessagesPerSecond { get; set; }

    /// <summary>Server CPU µs per message over the good rounds.</summary>
    public Spread? CpuPerMessage { get; set; }

    /// <summary>Of that, the server's system (kernel) time per message over the good rounds.</summary>
    public Spread? KernelPerMessage { get; set; }

    /// <summary>Round-trip latency percentiles (µs) over the good rounds: a stall that hits some
    /// rounds only shows in their spread, not in the median.</summary>
    public Spread? LatencyP50 { get; set; }

    /// <inheritdoc cref="LatencyP50"/>
    public Spread? LatencyP99 { get; set; }

    /// <inheritdoc cref="LatencyP50"/>
    public Spread? LatencyP999 { get; set; }

    /// <summary>Messages/s relative to System.Net.Sockets on the same workload (above 1: faster):
    /// the median of the per-round ratios (each round against the baseline of the same round).</summary>
    public double? RatioMessagesPerSecond { get; set; }

    /// <summary>The per-round ratios of messages/s.</summary>
    public Spread? RatioMessagesPerSecondSpread { get; set; }

    /// <summary>Server CPU per message relative to System.Net.Sockets (below 1: cheaper).</summary>
    public double? RatioCpuPerMessage { get; set; }

    /// <summary>The per-round ratios of CPU per message.</summary>
    public Spread? RatioCpuPerMessageSpread { get; set; }

    public bool HasFigures => Result is { Fatal: null, Messages: > 0 } && Status is Ok or WithErrors;

    /// <summary>The rounds with figures.</summary>
    public IEnumerable<RoundResult> GoodRounds => Rounds.Where(r => r.Result is { Fatal: null, Messages: > 0 });

    /// <summary>Records one round. A failure of this round is kept with its reason.</summary>
    public void Add(int round, LoadResult result, double? jitShare = null) =>
        Rounds.Add(new RoundResult { Round = round, Result = result, JitShare = jitShare });

    /// <summary>Fills <see cref="Result"/>, the spreads and <see cref="Status"/> from the rounds.</summary>
    public void Summarize()
    {
        if (Status == Skipped)
        {
            return;
        }

        var good = GoodRounds.Select(r => r.Result).ToList();
        var failed = Rounds.Where(r => r.Result.Fatal is not null || r.Result.Messages == 0).ToList();
        long errors = Rounds.Sum(r => r.Result.Errors);
        if (good.Count == 0)
        {
            Status = Failed;
            Result = null;
            Reason ??= failed.Select(r => r.Result.Fatal ?? r.Result.ErrorSamples.FirstOrDefault()).FirstOrDefault(x => x is not null) ?? "no round produced figures";
            return;
        }

        MessagesPerSecond = Spread.Of(good.Select(r => r.MessagesPerSecond));
        CpuPerMessage = Spread.Of(good.Where(r => r.ServerCpuUsPerMessage is not null).Select(r => r.ServerCpuUsPerMessage!.Value));
        KernelPerMessage = Spread.Of(good.Where(r => r.ServerKernelUsPerMessage is not null).Select(r => r.ServerKernelUsPerMessage!.Value));
        LatencyP50 = Spread.Of(good.Select(r => r.P50Us));
        LatencyP99 = Spread.Of(good.Select(r => r.P99Us));
        LatencyP999 = Spread.Of(good.Select(r => r.P999Us));
        Result = new LoadResult
        {
            ClientBackend = string.Join(",", good.Select(r => r.ClientBackend).Distinct()),
            Messages = good.Sum(r => r.Messages),
            Bytes = good.Sum(r => r.Bytes),
            Seconds = good.Sum(r => r.Seconds),
            MessagesPerSecond = MessagesPerSecond!.Median,
            MegabytesPerSecond = Spread.Of(good.Select(r => r.MegabytesPerSecond))!.Median,
            P50Us = LatencyP50!.Median,
            P99Us = LatencyP99!.Median,
            P999Us = LatencyP999!.Median,
            MaxUs = good.Max(r => r.MaxUs),
            MeanUs = Spread.Of(good.Select(r => r.MeanUs))!.Median,
            ServerCpuSeconds = good.Any(r => r.ServerCpuSeconds is null) ? null : good.Sum(r => r.ServerCpuSeconds!.Value),
            ServerCpuUsPerMessage = CpuPerMessage?.Median,
            ServerKernelSeconds = good.Any(r => r.ServerKernelSeconds is null) ? null : good.Sum(r => r.ServerKernelSeconds!.Value),
            ServerKernelUsPerMessage = KernelPerMessage?.Median,
            ClientCpuSeconds = good.Sum(r => r.ClientCpuSeconds ?? 0),
            ClientCpuUtilization = Spread.Of(good.Where(r => r.ClientCpuUtilization is not null).Select(r => r.ClientCpuUtilization!.Value))?.Median,
            ConnectionsOpen = good.Max(r => r.ConnectionsOpen),
            Errors = errors,
            ErrorSamples = Rounds.SelectMany(r => r.Result.ErrorSamples).Take(5).ToList(),
        };

        if (errors > 0)
        {
            Status = WithErrors;
            Reason = $"{errors} error(s): {Result.ErrorSamples.FirstOrDefault()}";
        }
        else if (failed.Count > 0)
        {
            Status = WithErrors;
            Reason = $"{failed.Count} of {Rounds.Count} rounds failed: {failed[0].Result.Fatal}";
        }
        else
        {
            Status = Ok;
        }
    }
}

/// <summary>One round of one cell.</summary>
internal sealed class RoundResult
{
    public int Round { get; set; }

    public LoadResult Result { get; set; } = new();

    /// <summary>Share of the measured run's time the server's JIT compiler spent compiling; null
    /// for a server with none to ask.</summary>
    public double? JitShare { get; set; }
}
