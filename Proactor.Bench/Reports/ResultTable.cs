using System.Collections.Generic;
using System.Linq;
using Proactor.Bench.Compare;
using Spectre.Console;

namespace Proactor.Bench.Reports;

/// <summary>The console table printed at the end of a comparison.</summary>
internal static class ResultTable
{
    public static Table Build(ComparisonReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Echo servers on loopback[/]")
            .Caption("[grey]ops = round trips (connections for churn, 64 KiB chunks for stream); latency = round trip; " +
                     "CPU = server user+system time per op, kernel = its system part; ×sock = relative to System.Net.Sockets (ops/s: higher is better, CPU: lower is better), " +
                     $"the median of the per-round ratios; each figure: median of {report.Rounds} interleaved rounds (min–max); ≈: the rounds disagree which side of 1.0 the ratio is on" +
                     "[/]" +
                     (report.IdleCheck is { } idle ? "\n" + (report.MachineBusy ? "[yellow]" : "[grey]") + Markup.Escape(idle) + "[/]" : ""));
        table.AddColumn("workload");
        table.AddColumn(new TableColumn("server").NoWrap());
        table.AddColumn(new TableColumn("ops/s").RightAligned().NoWrap());
        table.AddColumn(new TableColumn("×sock").RightAligned().NoWrap());
        table.AddColumn(new TableColumn("MB/s").RightAligned());
        table.AddColumn(new TableColumn("p50 µs").RightAligned());
        table.AddColumn(new TableColumn("p99 µs").RightAligned());
        table.AddColumn(new TableColumn("p99.9 µs").RightAligned());
        table.AddColumn(new TableColumn("CPU µs/op").RightAligned().NoWrap());
        table.AddColumn(new TableColumn("×sock").RightAligned().NoWrap());
        table.AddColumn(new TableColumn("kernel").RightAligned().NoWrap());
        bool notes = report.Results.Any(r => r.Status != Measurement.Ok);
        if (notes)
        {
            table.AddColumn("notes");
        }

        foreach (Workload workload in report.Workloads)
        {
            bool first = true;
            foreach (Measurement m in report.Results.Where(r => r.Workload == workload.Name))
            {
                string name = first ? Markup.Escape(workload.Name) : "";
                first = false;
                string server = Markup.Escape(m.Server);
                if (!m.HasFigures)
                {
                    string color = m.Status == Measurement.Skipped ? "grey" : "red";
                    table.AddRow(name, server, "", "", "", "", "", "", "", "", "", $"[{color}]{m.Status}: {Markup.Escape(Shorten(m.Reason))}[/]");
                    continue;
                }

                var r = m.Result!;
                var cells = new List<string>
                {
                    name,
                    server,
                    Format.Rate(m.MessagesPerSecond),
                    Format.Ratio(m.RatioMessagesPerSecondSpread),
                    Format.Megabytes(r.MegabytesPerSecond),
                    Format.Micros(r.P50Us),
                    Format.Micros(r.P99Us),
                    Format.Micros(r.P999Us),
                    Format.CpuMicros(m.CpuPerMessage),
                    Format.Ratio(m.RatioCpuPerMessageSpread),
                    Format.CpuMicros(m.KernelPerMessage?.Median),
                };
                if (notes)
                {
                    cells.Add(m.Status == Measurement.WithErrors ? $"[red]{Markup.Escape(Shorten(m.Reason))}[/]" : "");
                }

                table.AddRow(cells.ToArray());
            }

            table.AddEmptyRow();
        }

        return table;
    }

    private static string Shorten(string? text) =>
        text is null ? "" : text.Length <= 60 ? text : text[..57] + "...";
}
