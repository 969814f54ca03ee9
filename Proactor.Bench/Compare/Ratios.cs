using System.Collections.Generic;
using System.Linq;
using Proactor.Bench.Servers;

namespace Proactor.Bench.Compare;

/// <summary>
/// Figures relative to System.Net.Sockets on the same workload, taken round by round: each round's
/// figure against the baseline's figure of the same round, so a machine that drifts between rounds
/// moves both sides of a ratio together. The median of those ratios is reported, with their spread.
/// </summary>
internal static class Ratios
{
    public static void Compute(List<Measurement> results)
    {
        foreach (IGrouping<string, Measurement> workload in results.GroupBy(r => r.Workload))
        {
            Measurement? baseline = workload.FirstOrDefault(r => r.Server == ServerCatalog.Sockets.Name && r.HasFigures);
            var baseRounds = baseline?.GoodRounds.ToDictionary(r => r.Round, r => r.Result) ?? [];
            foreach (Measurement m in workload)
            {
                m.RatioMessagesPerSecond = null;
                m.RatioCpuPerMessage = null;
                m.RatioMessagesPerSecondSpread = null;
                m.RatioCpuPerMessageSpread = null;
                if (baseline is null || !m.HasFigures)
                {
                    continue;
                }

                var rounds = m.GoodRounds.ToList();
                m.RatioMessagesPerSecondSpread = PerRound(
                    rounds.Select(r => (r.Round, (double?)r.Result.MessagesPerSecond)),
                    baseRounds.ToDictionary(b => b.Key, b => (double?)b.Value.MessagesPerSecond));
                m.RatioCpuPerMessageSpread = PerRound(
                    rounds.Select(r => (r.Round, r.Result.ServerCpuUsPerMessage)),
                    baseRounds.ToDictionary(b => b.Key, b => b.Value.ServerCpuUsPerMessage));
                m.RatioMessagesPerSecond = m.RatioMessagesPerSecondSpread?.Median;
                m.RatioCpuPerMessage = m.RatioCpuPerMessageSpread?.Median;
            }
        }
    }

    /// <summary>
    /// Each round's figure over the baseline's figure of the same round, summarized as a spread
    /// (its median is the reported ratio). Rounds the baseline lacks, or where either side has no
    /// figure or the baseline's is not positive, give no ratio.
    /// </summary>
    public static Spread? PerRound(IEnumerable<(int Round, double? Value)> figures, IReadOnlyDictionary<int, double?> baseline)
    {
        var ratios = new List<double>();
        foreach ((int round, double? value) in figures)
        {
            if (value is { } v && baseline.TryGetValue(round, out double? b) && b is > 0)
            {
                ratios.Add(v / b.Value);
            }
        }

        return Spread.Of(ratios);
    }
}
