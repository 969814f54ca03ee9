using System.Collections.Generic;
using System.Linq;
using Proactor.Bench.Servers;

namespace Proactor.Bench.Compare;

/// <summary>Figures relative to System.Net.Sockets on the same workload.</summary>
internal static class Ratios
{
    public static void Compute(List<Measurement> results)
    {
        foreach (IGrouping<string, Measurement> workload in results.GroupBy(r => r.Workload))
        {
            Measurement? baseline = workload.FirstOrDefault(r => r.Server == ServerCatalog.Sockets.Name && r.HasFigures);
            foreach (Measurement m in workload)
            {
                m.RatioMessagesPerSecond = null;
                m.RatioCpuPerMessage = null;
                if (baseline is null || !m.HasFigures)
                {
                    continue;
                }

                if (baseline.Result!.MessagesPerSecond > 0)
                {
                    m.RatioMessagesPerSecond = m.Result!.MessagesPerSecond / baseline.Result.MessagesPerSecond;
                }

                if (baseline.Result.ServerCpuUsPerMessage is > 0 && m.Result!.ServerCpuUsPerMessage is { } cpu)
                {
                    m.RatioCpuPerMessage = cpu / baseline.Result.ServerCpuUsPerMessage.Value;
                }
            }
        }
    }
}
