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

                var rates = new List<double>();
                var cpus = new List<double>();
                foreach (RoundResult round in m.GoodRounds)
                {
                    if (!baseRounds.TryGetValue(round.Round, out Load.LoadResult? b))
                    {
                        continue;
                    }

                    if (b.MessagesPerSecond > 0)
                    {
                        rates.Add(round.Result.MessagesPerSecond / b.MessagesPerSecond);
                    }

                    if (b.ServerCpuUsPerMessage is > 0 && round.Result.ServerCpuUsPerMessage is { } cpu)
                    {
                        cpus.Add(cpu / b.ServerCpuUsPerMessage.Value);
                    }
                }

                m.RatioMessagesPerSecondSpread = Spread.Of(rates);
                m.RatioCpuPerMessageSpread = Spread.Of(cpus);
                m.RatioMessagesPerSecond = m.RatioMessagesPerSecondSpread?.Median;
                m.RatioCpuPerMessage = m.RatioCpuPerMessageSpread?.Median;
            }
        }
    }
}
