using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Proactor.Bench.Compare;

namespace Proactor.Bench.Reports;

/// <summary>Writes a comparison's results folder: report.md, results.json and the SVG charts (<see cref="Charts"/>).</summary>
internal static class ReportWriter
{
    public const string MarkdownFile = "report.md";
    public const string JsonFile = "results.json";
    public const string ThroughputChart = "throughput.svg";
    public const string IdleChart = "idle-scaling.svg";

    /// <summary>Creates <c>&lt;root&gt;/&lt;timestamp&gt;/</c> and writes every file; returns the folder.</summary>
    public static string Write(ComparisonReport report, string root, DateTimeOffset started)
    {
        string stamp = started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string folder = Path.GetFullPath(Path.Combine(root, stamp));
        for (int i = 2; Directory.Exists(folder); i++)
        {
            folder = Path.GetFullPath(Path.Combine(root, $"{stamp}-{i}"));
        }

        Directory.CreateDirectory(folder);
        var json = new BenchJson(new JsonSerializerOptions(BenchJson.Default.Options)
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a file for people, not HTML
        });
        File.WriteAllText(Path.Combine(folder, JsonFile), JsonSerializer.Serialize(report, json.ComparisonReport));

        string? throughput = null, idle = null, chartsMissing = null;
        try
        {
            throughput = Charts.Throughput(report);
            idle = Charts.IdleScaling(report);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException or EntryPointNotFoundException)
        {
            // The figures are measured already: the report goes out without its charts.
            throughput = idle = null;
            chartsMissing = $"No charts: their drawing library (SkiaSharp) did not load here: {e.GetBaseException().Message}";
        }

        if (throughput is not null)
        {
            File.WriteAllText(Path.Combine(folder, ThroughputChart), throughput);
        }

        if (idle is not null)
        {
            File.WriteAllText(Path.Combine(folder, IdleChart), idle);
        }

        File.WriteAllText(Path.Combine(folder, MarkdownFile), Markdown(report, throughput is not null, idle is not null, chartsMissing));
        return folder;
    }

    public static string Markdown(ComparisonReport report, bool hasThroughputChart, bool hasIdleChart, string? chartsMissing = null)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Proactor comparison, {report.StartedAt}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Command: `{report.Command}`");
        md.AppendLine(CultureInfo.InvariantCulture,
            $"- Profile: {report.Profile}; {report.Rounds} interleaved rounds, each starting a fresh process of every server that first runs each workload {Format.Number(report.WarmupSeconds)} s (discarded){(report.Tiering.Length > 0 ? ", with " + report.Tiering : "")}, then measuring each workload on every server back to back (A B C, A B C, ...); " +
            $"{Format.Number(report.DurationSeconds)} s measured per server, workload and round; whole run {Format.Number(report.ElapsedSeconds, "0.#")} s");
        if (report.MaxExtraWarmupSeconds > 0 && report.Warmups.Count > 0)
        {
            string perServer = string.Join("; ", report.Warmups.GroupBy(w => w.Server).Select(g =>
                g.Key + " " + (g.All(w => w.Runs.Count == 0)
                    ? "none (no JIT compiler to ask)"
                    : string.Join(", ", g.OrderBy(w => w.Round).Select(w => Format.Number(w.ExtraSeconds))))));
            md.AppendLine(CultureInfo.InvariantCulture,
                $"- Warm-up beyond the pass while the server's JIT compiler was busy (at most {Format.Number(report.MaxExtraWarmupSeconds)} s; a workload runs again while the compiler was busy more than {ComparePlan.QuietJitShare:0%} of its last run), seconds per round: {perServer}");
        }

        if (report.JitNote() is { } jitNote)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {jitNote}");
        }

        if (report.IdleCheck is { } idleCheck)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {(report.MachineBusy ? "**" + idleCheck + "**" : idleCheck)}");
        }
        md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {report.Machine.Os}, {report.Machine.Runtime}, {report.Machine.ProcessorCount} CPUs");
        md.AppendLine(CultureInfo.InvariantCulture,
            $"- Server process: {report.Machine.ServerCpus}; load generator process: {report.Machine.LoadGeneratorCpus}, {report.Machine.LoadGeneratorLoops} {report.Machine.LoadGeneratorBackend} loop(s); RLIMIT_NOFILE {(report.Machine.DescriptorLimit?.ToString(CultureInfo.InvariantCulture) ?? "unknown")}");
        foreach (string note in report.Machine.Notes)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }

        md.AppendLine();
        md.AppendLine("One load generator (Proactor " + report.Machine.LoadGeneratorBackend + " clients with inline dispatch in their own process, the same for every server) drives each server " +
                      "in a closed loop and checks every echoed byte. **ops/s**: round trips per second (connections per second for churn, " +
                      "chunks for streaming). **MB/s**: payload echoed per second, one direction. **Latency**: round trip, from the send of a message " +
                      "to the last byte of its echo. **CPU µs/op**: the server process's user + system CPU time in the measured window, " +
                      "per op (from /proc/<pid>/stat); **kernel µs/op**: the system part of it, the time the kernel spent for the server (its syscalls, " +
                      "the loopback's delivery to the peer, scheduling), which a server's design can shrink only by making fewer calls and sleeping less. **×sockets**: relative to System.Net.Sockets on the same workload, the median of the " +
                      "per-round ratios (each round against the baseline of the same round); ops/s higher is better, CPU lower is better; " +
                      "**≈** where the rounds disagree which side of 1.0 the ratio is on. Each figure is the median over the rounds, (min–max) after it. " +
                      "**load CPU**: the load generator's CPU use in the window, of the CPUs it may use (near 100 %: it may have set the pace).");
        md.AppendLine();

        md.AppendLine("## Servers");
        md.AppendLine();
        foreach (ServerInfo s in report.Servers)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- **{s.Name}**: {s.Description}");
        }

        foreach (UnavailableInfo u in report.Unavailable)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- not available here: {u.Name} ({u.Reason})");
        }

        md.AppendLine();
        md.AppendLine("## Results");
        foreach (Workload w in report.Workloads)
        {
            var rows = report.Results.Where(r => r.Workload == w.Name).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"### {w.Name}: {w.Description}");
            md.AppendLine();
            md.AppendLine("| server | ops/s | ×sockets | MB/s | p50 µs | p99 µs | p99.9 µs | CPU µs/op | ×sockets | kernel µs/op | load CPU | errors |");
            md.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
            foreach (Measurement m in rows)
            {
                if (!m.HasFigures)
                {
                    md.AppendLine(CultureInfo.InvariantCulture, $"| {m.Server} | | | | | | | | | | | {m.Status}: {Cell(m.Reason)} |");
                    continue;
                }

                var r = m.Result!;
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {m.Server} | {Format.Rate(m.MessagesPerSecond)} | {Format.Ratio(m.RatioMessagesPerSecondSpread)} | {Format.Megabytes(r.MegabytesPerSecond)} | " +
                    $"{Format.Micros(m.LatencyP50)} | {Format.Micros(m.LatencyP99)} | {Format.Micros(m.LatencyP999)} | {Format.CpuMicros(m.CpuPerMessage)} | " +
                    $"{Format.Ratio(m.RatioCpuPerMessageSpread)} | {Format.CpuMicros(m.KernelPerMessage)} | {(r.ClientCpuUtilization is { } u ? Format.Number(u * 100, "0") + " %" : "–")} | {(r.Errors == 0 ? "0" : $"{r.Errors}: {Cell(r.ErrorSamples.FirstOrDefault())}")} |");
            }
        }

        var idle = report.Workloads.Where(w => w.IsIdleScaling).OrderBy(w => w.Idle).ToList();
        var idleServers = report.Results.Where(r => idle.Any(w => w.Name == r.Workload)).Select(r => r.Server).Distinct().ToList();
        if (idle.Count > 0 && idleServers.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Idle-descriptor scaling");
            md.AppendLine();
            md.AppendLine("ops/s of the active connections as idle ones are added (epoll's cost should not grow with idle descriptors; select's and poll's do):");
            md.AppendLine();
            md.AppendLine("| server | " + string.Join(" | ", idle.Select(w => $"{w.Idle} idle")) + " |");
            md.AppendLine("|---|" + string.Concat(idle.Select(_ => "--:|")));
            foreach (string server in idleServers)
            {
                var cells = idle.Select(w => report.Results.FirstOrDefault(r => r.Server == server && r.Workload == w.Name))
                    .Select(m => m is null ? "" : m.HasFigures ? Format.Rate(m.Result!.MessagesPerSecond) : m.Status);
                md.AppendLine(CultureInfo.InvariantCulture, $"| {server} | {string.Join(" | ", cells)} |");
            }
        }

        if (hasThroughputChart || hasIdleChart)
        {
            md.AppendLine();
            md.AppendLine("## Charts");
            md.AppendLine();
            if (hasThroughputChart)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"![ops/s per server per workload]({ThroughputChart})");
            }

            if (hasIdleChart)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"![idle-descriptor scaling]({IdleChart})");
            }
        }
        else if (chartsMissing is not null)
        {
            md.AppendLine();
            md.AppendLine("## Charts");
            md.AppendLine();
            md.AppendLine(chartsMissing);
        }

        var problems = report.Results.Where(r => r.Status != Measurement.Ok).ToList();
        if (problems.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Errors, failures and skipped measurements");
            md.AppendLine();
            foreach (Measurement m in problems)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- {m.Server} / {m.Workload}: {m.Status}: {m.Reason}");
                foreach (string sample in m.Result?.ErrorSamples.Skip(1) ?? [])
                {
                    md.AppendLine(CultureInfo.InvariantCulture, $"  - {sample}");
                }
            }
        }

        return md.ToString();
    }

    private static string Cell(string? text) =>
        (text ?? "").Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
