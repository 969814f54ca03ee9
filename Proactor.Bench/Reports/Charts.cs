using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Proactor.Bench.Compare;
using Proactor.Bench.Load;
using Proactor.Bench.Servers;
using ScottPlot;
using SkiaSharp;

namespace Proactor.Bench.Reports;

/// <summary>
/// The report's charts, drawn by ScottPlot and written as SVG (they open in any browser or
/// Markdown viewer): each bar is a cell's median, its whisker the slowest and the fastest round,
/// its label the table's figure and ratio.
/// </summary>
internal static class Charts
{
    private const int Width = 900;
    private const string BaselineColor = "#999999";
    private static readonly string[] s_palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

    /// <summary>Sans-serif faces tried in order; ScottPlot's own pick may be a serif face.</summary>
    private static readonly string[] s_fonts = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Segoe UI"];

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
        var plots = new List<Plot>();
        foreach ((Workload workload, List<Measurement> rows) in panels)
        {
            var plot = NewPlot($"{workload.Name}: {workload.Description}");
            int n = rows.Count;
            double widest = 0;
            for (int i = 0; i < n; i++)
            {
                Measurement m = rows[i];
                Spread rate = m.MessagesPerSecond ?? new Spread(m.Result!.MessagesPerSecond, m.Result.MessagesPerSecond, m.Result.MessagesPerSecond, 1);
                double y = n - 1 - i; // the first server on top, as in the table
                plot.Add.Bar(new Bar
                {
                    Position = y,
                    Value = rate.Median,
                    Size = 0.7,
                    Orientation = Orientation.Horizontal,
                    FillColor = Color.FromHex(colors[m.Server]),
                    LineWidth = 0,
                });
                if (rate.Max > rate.Min)
                {
                    plot.Add.Plottable(new ScottPlot.Plottables.ErrorBar([rate.Median], [y], null, null, null, null)
                    {
                        XErrorNegative = [rate.Median - rate.Min],
                        XErrorPositive = [rate.Max - rate.Median],
                        LineColor = Colors.Black,
                        CapSize = 6,
                    });
                }

                string ratio = m.RatioMessagesPerSecondSpread is { } r && m.Server != ServerCatalog.Sockets.Name ? $" {Format.Ratio(r)}" : "";
                var label = plot.Add.Text(Format.Rate(rate.Median) + ratio, rate.Max, y);
                label.LabelAlignment = Alignment.MiddleLeft;
                label.OffsetX = 6;
                label.LabelFontSize = 11;
                label.LabelFontName = plot.Axes.Title.Label.FontName;
                widest = Math.Max(widest, rate.Max);
            }

            plot.Axes.Left.SetTicks(Enumerable.Range(0, n).Select(i => (double)(n - 1 - i)).ToArray(), rows.Select(r => r.Server).ToArray());
            plot.Axes.Left.MajorTickStyle.Length = 0;
            plot.Axes.SetLimits(0, widest * 1.55, -0.6, n - 0.4); // room for the labels right of the longest whisker
            plot.Axes.Bottom.Label.Text = $"{OpsName(workload)} (bar: median of the rounds; whisker: slowest to fastest round; grey: System.Net.Sockets)";
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Compact };
            plot.Grid.YAxisStyle.IsVisible = false;
            plots.Add(plot);
        }

        return Svg(plots, panels.Sum(p => 110 + (p.Rows.Count * 24)));
    }

    /// <summary>What one of the workload's ops is, per second (the table's caption says the same):
    /// a stream's bars count its chunks, whatever its title says it is judged by.</summary>
    internal static string OpsName(Workload workload) => workload.Mode switch
    {
        LoadMode.Stream => $"{WorkloadCatalog.Bytes(workload.MessageSize)} chunks/s",
        LoadMode.Churn => "connections/s",
        _ => "round trips/s",
    };

    /// <summary>Lines of ops/s against the number of idle connections, one per server.</summary>
    public static string? IdleScaling(ComparisonReport report)
    {
        var idle = report.Workloads.Where(w => w.IsIdleScaling).OrderBy(w => w.Idle).ToList();
        var series = report.Results
            .Where(r => r.HasFigures && idle.Any(w => w.Name == r.Workload))
            .GroupBy(r => r.Server)
            .Select(g => (Server: g.Key, Points: idle.Select(w => (w.Idle, Measurement: g.FirstOrDefault(m => m.Workload == w.Name)))
                .Where(p => p.Measurement is not null).Select(p => (X: (double)p.Idle, Y: p.Measurement!.Result!.MessagesPerSecond)).ToList()))
            .Where(s => s.Points.Count > 0)
            .ToList();
        if (idle.Count == 0 || series.Count == 0)
        {
            return null;
        }

        var colors = ColorsOf(report);
        var plot = NewPlot("Idle-descriptor scaling: round trips/s of a few active connections beside idle ones");
        foreach ((string server, var points) in series)
        {
            var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            line.Color = Color.FromHex(colors[server]);
            line.LineWidth = 2;
            line.MarkerSize = 7;
            line.LegendText = server;
        }

        plot.Axes.Bottom.Label.Text = "idle connections (a flat line: the demultiplexer's cost does not grow with idle descriptors)";
        plot.Axes.Left.Label.Text = "round trips/s (higher is better)";
        plot.Axes.Left.Label.FontSize = 11;
        plot.Axes.SetLimitsY(0, series.Max(s => s.Points.Max(p => p.Y)) * 1.15);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Compact };
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Compact };
        plot.ShowLegend(Alignment.LowerRight);
        return Svg([plot], 440);
    }

    private static Plot NewPlot(string title)
    {
        var plot = new Plot();
        string? font = s_fonts.FirstOrDefault(f => SKFontManager.Default.FontFamilies.Contains(f, StringComparer.OrdinalIgnoreCase));
        if (font is not null)
        {
            plot.Font.Set(font);
        }

        plot.Axes.Title.Label.Text = title;
        plot.Axes.Title.Label.FontSize = 13;
        plot.Axes.Bottom.Label.FontSize = 11;
        return plot;
    }

    /// <summary>An axis tick: 250, 12.5 k, 1.2 M.</summary>
    private static string Compact(double value) => Math.Abs(value) switch
    {
        >= 1e6 => (value / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + " M",
        >= 1e3 => (value / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + " k",
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };

    /// <summary>The plots one above the other, as one SVG document.</summary>
    private static string Svg(List<Plot> plots, int height)
    {
        var figure = new Multiplot();
        figure.Reset(plots[0]);
        foreach (Plot plot in plots.Skip(1))
        {
            figure.AddPlot(plot);
        }

        // A plot whose layout moves on its first render (the axes measured against their labels)
        // draws itself a second time on the same canvas: a first pass on a bitmap settles it, so
        // the document holds each shape once.
        var area = new PixelRect(Width, height);
        using (SKSurface layout = SKSurface.Create(new SKImageInfo(Width, height)))
        {
            figure.Render(layout.Canvas, area);
        }

        using var stream = new MemoryStream();
        using (SKCanvas canvas = SKSvgCanvas.Create(new SKRect(0, 0, Width, height), stream))
        {
            figure.Render(canvas, area);
        }

        foreach (Plot plot in plots)
        {
            plot.Dispose();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static Dictionary<string, string> ColorsOf(ComparisonReport report)
    {
        var colors = new Dictionary<string, string>();
        int next = 0;
        foreach (ServerInfo s in report.Servers)
        {
            colors[s.Name] = s.Kind == "sockets" ? BaselineColor : s_palette[next++ % s_palette.Length];
        }

        foreach (Measurement m in report.Results)
        {
            colors.TryAdd(m.Server, s_palette[next++ % s_palette.Length]);
        }

        return colors;
    }
}
