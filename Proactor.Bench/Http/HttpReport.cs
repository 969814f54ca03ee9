using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Proactor.Bench.Compare;
using Proactor.Bench.Reports;

namespace Proactor.Bench.Http;

/// <summary>One wrk round of one server on one workload, with the server's CPU per request.</summary>
internal sealed record HttpSample(int Round, WrkResult Wrk, double? CpuMicrosecondsPerRequest);

/// <summary>One row of the <c>http</c> table: the rounds' spreads, and ratios against Kestrel on Sockets taken round by round.</summary>
internal sealed record HttpRow(string Server, Spread? RequestsPerSecond, Spread? P99Milliseconds, Spread? CpuMicrosecondsPerRequest, Spread? RatioRequestsPerSecond, Spread? RatioCpuPerRequest)
{
    /// <summary>The cells as printed: median (min–max), ratios with the runner's "≈" rule.</summary>
    public string[] Cells() =>
    [
        Server,
        Format.Rate(RequestsPerSecond),
        Format.Ratio(RatioRequestsPerSecond),
        Format.CpuMicros(P99Milliseconds),
        Format.CpuMicros(CpuMicrosecondsPerRequest),
        Format.Ratio(RatioCpuPerRequest),
    ];
}

/// <summary>
/// Summarizes the <c>http</c> rounds with the comparison runner's statistics: <see cref="Spread"/>
/// for each figure, <see cref="Ratios.PerRound"/> for the ratios, <see cref="Format"/> for the cells.
/// </summary>
internal static class HttpReport
{
    /// <summary>The baseline every ratio is taken against.</summary>
    public const string Baseline = "sockets";

    public static readonly string[] Columns = ["server", "req/s", "×sockets", "p99 ms", "CPU µs/req", "CPU ×sockets"];

    /// <summary>One row per server that has samples on this workload, in <paramref name="servers"/>' order.</summary>
    public static List<HttpRow> Rows(IEnumerable<string> servers, IReadOnlyDictionary<string, List<HttpSample>> samples)
    {
        samples.TryGetValue(Baseline, out List<HttpSample>? baseline);
        var baseRate = (baseline ?? []).ToDictionary(s => s.Round, s => (double?)s.Wrk.RequestsPerSecond);
        var baseCpu = (baseline ?? []).ToDictionary(s => s.Round, s => s.CpuMicrosecondsPerRequest);
        var rows = new List<HttpRow>();
        foreach (string server in servers)
        {
            if (!samples.TryGetValue(server, out List<HttpSample>? list) || list.Count == 0)
            {
                continue;
            }

            rows.Add(new HttpRow(
                server,
                Spread.Of(list.Select(s => s.Wrk.RequestsPerSecond)),
                // wrk prints a 99th percentile of 0.00us for some pipelined runs (its mean latency
                // a few ms in the same output): a round without one has no p99, not a zero.
                Spread.Of(list.Select(s => s.Wrk.P99Milliseconds).Where(p => p > 0)),
                Spread.Of(list.Where(s => s.CpuMicrosecondsPerRequest is not null).Select(s => s.CpuMicrosecondsPerRequest!.Value)),
                baseline is null ? null : Ratios.PerRound(list.Select(s => (s.Round, (double?)s.Wrk.RequestsPerSecond)), baseRate),
                baseline is null ? null : Ratios.PerRound(list.Select(s => (s.Round, s.CpuMicrosecondsPerRequest)), baseCpu)));
        }

        return rows;
    }

    /// <summary>The Markdown table of one workload.</summary>
    public static string Markdown(IEnumerable<HttpRow> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| " + string.Join(" | ", Columns) + " |");
        text.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", Columns.Length - 1)));
        foreach (HttpRow row in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {string.Join(" | ", row.Cells())} |");
        }

        return text.ToString();
    }
}
