using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security;
using System.Text;
using Proactor.Bench.Compare;

namespace Proactor.Bench.Reports;

/// <summary>
/// The charts, as SVG written by hand: no drawing library and no native dependency, so they are
/// produced wherever the runner runs and open in any browser or Markdown viewer.
/// </summary>
internal static class SvgCharts
{
    private const int Width = 820;
    private const int LabelWidth = 170;
    private const int BarHeight = 16;
    private const int RowGap = 4;
    private static readonly string[] s_palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

    /// <summary>One panel per workload (each on its own scale), one bar per server: ops/s.</summary>
    public static string? Throughput(ComparisonReport report)
    {
        var panels = report.Workloads
            .Select(w => (Workload: w, Rows: report.Results.Where(r => r.Workload == w.Name && r.HasFigures).ToList()))
            .Where(p => p.Rows.Count > 0)
            .ToList();
        if (panels.Count == 0)
        {
            return null;
        }

        var colors = ColorsOf(report);
        int height = 50 + panels.Sum(p => 34 + p.Rows.Count * (BarHeight + RowGap));
        var svg = Begin(height, "ops/s per server and workload (each panel on its own scale; grey: System.Net.Sockets)");
        int y = 50;
        foreach ((Workload workload, List<Measurement> rows) in panels)
        {
            svg.AppendLine(Inv($"<text x=\"10\" y=\"{y + 14}\" font-weight=\"bold\">{Esc(workload.Name)}</text><text x=\"{LabelWidth}\" y=\"{y + 14}\" fill=\"#555\">{Esc(workload.Description)}</text>"));
            y += 24;
            double max = rows.Max(r => r.Result!.MessagesPerSecond);
            int barSpace = Width - LabelWidth - 150;
            foreach (Measurement m in rows)
            {
                double value = m.Result!.MessagesPerSecond;
                double w = max > 0 ? Math.Max(1, value / max * barSpace) : 1;
                string ratio = m.RatioMessagesPerSecondSpread is { } r && m.Server != "sockets" ? $"  ({Format.Ratio(r)})" : "";
                svg.AppendLine(Inv($"<text x=\"{LabelWidth - 8}\" y=\"{y + 12}\" text-anchor=\"end\">{Esc(m.Server)}</text>"));
                svg.AppendLine(Inv($"<rect x=\"{LabelWidth}\" y=\"{y}\" width=\"{w:0.#}\" height=\"{BarHeight}\" fill=\"{colors[m.Server]}\"/>"));
                svg.AppendLine(Inv($"<text x=\"{LabelWidth + w + 6:0.#}\" y=\"{y + 12}\">{Esc(Format.Rate(m.MessagesPerSecond))}{Esc(ratio)}</text>"));
                y += BarHeight + RowGap;
            }

            y += 10;
        }

        return End(svg);
    }

    /// <summary>Lines of ops/s against the number of idle connections, one per server.</summary>
    public static string? IdleScaling(ComparisonReport report)
    {
        var idle = report.Workloads.Where(w => w.IsIdleScaling).OrderBy(w => w.Idle).ToList();
        var series = report.Results
            .Where(r => r.HasFigures && idle.Any(w => w.Name == r.Workload))
            .GroupBy(r => r.Server)
            .Select(g => (Server: g.Key, Points: idle.Select((w, i) => (Index: i, Measurement: g.FirstOrDefault(m => m.Workload == w.Name)))
                .Where(p => p.Measurement is not null).Select(p => (p.Index, Value: p.Measurement!.Result!.MessagesPerSecond)).ToList()))
            .Where(s => s.Points.Count > 0)
            .ToList();
        if (idle.Count == 0 || series.Count == 0)
        {
            return null;
        }

        var colors = ColorsOf(report);
        const int Height = 420;
        const int Left = 90, Right = Width - 170, Top = 50, Bottom = Height - 50;
        double max = series.Max(s => s.Points.Max(p => p.Value)) * 1.1;
        double X(int i) => idle.Count == 1 ? (Left + Right) / 2.0 : Left + (Right - Left) * i / (double)(idle.Count - 1);
        double Y(double v) => Bottom - (Bottom - Top) * (max > 0 ? v / max : 0);

        var svg = Begin(Height, "Idle-descriptor scaling: ops/s of a few active connections beside idle ones");
        for (int t = 0; t <= 4; t++)
        {
            double v = max * t / 4;
            svg.AppendLine(Inv($"<line x1=\"{Left}\" y1=\"{Y(v):0.#}\" x2=\"{Right}\" y2=\"{Y(v):0.#}\" stroke=\"#ddd\"/><text x=\"{Left - 8}\" y=\"{Y(v) + 4:0.#}\" text-anchor=\"end\">{Esc(Format.Rate(v))}</text>"));
        }

        for (int i = 0; i < idle.Count; i++)
        {
            svg.AppendLine(Inv($"<text x=\"{X(i):0.#}\" y=\"{Bottom + 20}\" text-anchor=\"middle\">{idle[i].Idle.ToString("#,0", CultureInfo.InvariantCulture)} idle</text>"));
        }

        int legendY = Top;
        foreach ((string server, var points) in series)
        {
            string color = colors[server];
            string path = string.Join(" ", points.Select((p, k) => Inv($"{(k == 0 ? "M" : "L")}{X(p.Index):0.#},{Y(p.Value):0.#}")));
            svg.AppendLine(Inv($"<path d=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>"));
            foreach (var p in points)
            {
                svg.AppendLine(Inv($"<circle cx=\"{X(p.Index):0.#}\" cy=\"{Y(p.Value):0.#}\" r=\"3.5\" fill=\"{color}\"/>"));
            }

            svg.AppendLine(Inv($"<rect x=\"{Right + 20}\" y=\"{legendY - 10}\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{Right + 38}\" y=\"{legendY}\">{Esc(server)}</text>"));
            legendY += 20;
        }

        svg.AppendLine(Inv($"<text x=\"{Left}\" y=\"{Height - 10}\" fill=\"#555\">ops/s (higher is better); a flat line means the demultiplexer's cost does not grow with idle descriptors</text>"));
        return End(svg);
    }

    private static Dictionary<string, string> ColorsOf(ComparisonReport report)
    {
        var colors = new Dictionary<string, string>();
        int next = 0;
        foreach (ServerInfo s in report.Servers)
        {
            colors[s.Name] = s.Kind == "sockets" ? "#999999" : s_palette[next++ % s_palette.Length];
        }

        foreach (Measurement m in report.Results)
        {
            colors.TryAdd(m.Server, s_palette[next++ % s_palette.Length]);
        }

        return colors;
    }

    private static StringBuilder Begin(int height, string title)
    {
        var svg = new StringBuilder();
        svg.AppendLine(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"12\">"));
        svg.AppendLine(Inv($"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/>"));
        svg.AppendLine(Inv($"<text x=\"10\" y=\"26\" font-size=\"16\" font-weight=\"bold\">{Esc(title)}</text>"));
        return svg;
    }

    private static string End(StringBuilder svg)
    {
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Esc(string text) => SecurityElement.Escape(text) ?? "";

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
