using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NUnit.Framework;
using Proactor.Bench.Compare;
using Proactor.Bench.Load;
using Proactor.Bench.Reports;

namespace Proactor.Tests.Bench;

/// <summary>
/// The report's charts, from a report built as <c>compare</c> builds it (rounds, medians, ratios):
/// each bar's length is its cell's median on the panel's scale, its whisker runs from the slowest
/// to the fastest round, and its label is the table's figure and ratio.
/// </summary>
[TestFixture]
public sealed class ChartTests
{
    private static readonly XNamespace s_svg = "http://www.w3.org/2000/svg";

    [Test]
    public void A_bar_is_the_median_its_whisker_the_rounds_and_its_label_the_figure_and_ratio()
    {
        // sockets: 40, 50, 60 k; io_uring: 90, 100, 130 k (ratios 2.25, 2.0, 2.17 by round).
        ComparisonReport report = Report(
            ("sockets", "sockets", [40_000, 50_000, 60_000]),
            ("io_uring", "proactor", [90_000, 100_000, 130_000]));

        XDocument svg = XDocument.Parse(Charts.Throughput(report)!);

        Assert.That(svg.Root!.Name, Is.EqualTo(s_svg + "svg"));
        string[] texts = Texts(svg);
        Assert.That(texts, Does.Contain("pingpong-64: 64 B ping-pong, 64 connections"), "the panel's title");
        Assert.That(texts, Does.Contain("sockets").And.Contain("io_uring"), "the servers' names");
        Assert.That(texts, Does.Contain("50.0 k"), "the baseline's median, without a ratio");
        Assert.That(texts, Does.Contain("100.0 k 2.17× (2.00–2.25)"), "the median and the per-round ratios, as the table prints them");

        // Bars start at zero: their widths are in the ratio of the medians.
        double sockets = BarWidth(svg, "#999999");
        double ring = BarWidth(svg, "#1f77b4");
        Assert.That(ring / sockets, Is.EqualTo(100_000.0 / 50_000).Within(0.01));

        // Each whisker spans max - min on the same scale: 20 k and 40 k.
        double perOp = sockets / 50_000;
        double[] whiskers = Whiskers(svg);
        Assert.That(whiskers, Has.Some.EqualTo(20_000 * perOp).Within(0.5), $"sockets' whisker ({string.Join(", ", whiskers)})");
        Assert.That(whiskers, Has.Some.EqualTo(40_000 * perOp).Within(0.5), $"io_uring's whisker ({string.Join(", ", whiskers)})");
    }

    [Test]
    public void A_ratio_whose_rounds_straddle_one_is_labelled_as_about_equal()
    {
        ComparisonReport report = Report(
            ("sockets", "sockets", [50_000, 50_000, 50_000]),
            ("epoll-et", "proactor", [45_000, 52_000, 60_000]));
        string[] texts = Texts(XDocument.Parse(Charts.Throughput(report)!));
        Assert.That(texts, Does.Contain("52.0 k ≈ (0.90–1.20)"));
    }

    [Test]
    public void Each_panel_says_what_its_bars_count()
    {
        // The stream's title ends in "(MB/s)", the figure it is judged by; its bars are chunks/s.
        var report = new ComparisonReport { Rounds = 1, Workloads = [WorkloadCatalog.PingPong(64), WorkloadCatalog.Stream(), WorkloadCatalog.Churn()] };
        report.Servers.Add(new ServerInfo("sockets", "sockets", "sockets"));
        foreach (Workload w in report.Workloads)
        {
            report.Results.Add(Measured("sockets", w.Name, [10_000]));
        }

        string[] texts = Texts(XDocument.Parse(Charts.Throughput(report)!));
        string[] axes = texts.Where(t => t.Contains("(bar: median", StringComparison.Ordinal)).ToArray();
        Assert.That(axes.Select(t => t[..t.IndexOf(" (bar", StringComparison.Ordinal)]),
            Is.EqualTo(new[] { "round trips/s", "64 KiB chunks/s", "connections/s" }), string.Join(" | ", axes));
    }

    [Test]
    public void Idle_scaling_draws_one_line_per_server_through_its_medians()
    {
        ComparisonReport report = Report(
            ("sockets", "sockets", [40_000]),
            ("epoll-et", "proactor", [45_000]));
        report.Workloads.Clear();
        report.Results.Clear();
        foreach (int idle in new[] { 100, 1000, 10_000 })
        {
            Workload w = WorkloadCatalog.Idle(idle);
            report.Workloads.Add(w);
            report.Results.Add(Measured("sockets", w.Name, [30_000 - idle]));
            report.Results.Add(Measured("epoll-et", w.Name, [45_000]));
        }

        Assert.That(Charts.Throughput(report), Is.Not.Null, "the idle workloads have their panels too");
        XDocument svg = XDocument.Parse(Charts.IdleScaling(report)!);
        string[] texts = Texts(svg);
        Assert.That(texts, Does.Contain("sockets").And.Contain("epoll-et"), "the legend");

        // epoll-et's line is flat, sockets' falls: the first is one horizontal run at one height.
        var lines = svg.Descendants(s_svg + "path")
            .Where(p => Color(p.Attribute("stroke")?.Value) is "#999999" or "#1f77b4" && (p.Attribute("d")?.Value.Count(c => c == 'L') ?? 0) == 2)
            .ToDictionary(p => Color(p.Attribute("stroke")!.Value)!, p => Points(p.Attribute("d")!.Value));
        Assert.That(lines.Keys, Is.EquivalentTo(new[] { "#999999", "#1f77b4" }), "a three-point line per server");
        Assert.That(lines["#1f77b4"].Select(p => p.Y).Distinct().Count(), Is.EqualTo(1), "a flat line for a flat series");
        Assert.That(lines["#999999"].Select(p => p.Y), Is.Ordered.And.Unique, "falling ops/s: the line goes down at each point (SVG's y grows downwards)");
        Assert.That(lines["#999999"].Select(p => p.X), Is.Ordered.And.Unique, "from few idle connections to many");
    }

    [Test]
    public void A_report_without_its_charts_says_why_and_links_none()
    {
        ComparisonReport report = Report(("sockets", "sockets", [50_000]), ("epoll-et", "proactor", [60_000]));
        string md = ReportWriter.Markdown(report, false, false, "No charts: their drawing library (SkiaSharp) did not load here: libSkiaSharp");
        Assert.That(md, Does.Contain("## Charts\n\nNo charts: their drawing library (SkiaSharp) did not load here: libSkiaSharp").IgnoreCase
            .Or.Contain("## Charts\r\n\r\nNo charts: their drawing library (SkiaSharp) did not load here: libSkiaSharp"));
        Assert.That(md, Does.Not.Contain(ReportWriter.ThroughputChart).And.Not.Contain(ReportWriter.IdleChart), "no link to a chart that was not written");
        Assert.That(md, Does.Contain("| sockets |"), "the tables are all there");
    }

    private static ComparisonReport Report(params (string Name, string Kind, double[] Rounds)[] servers)
    {
        Workload workload = WorkloadCatalog.PingPong(64);
        var report = new ComparisonReport { Rounds = servers.Max(s => s.Rounds.Length), Workloads = [workload] };
        foreach ((string name, string kind, double[] rounds) in servers)
        {
            report.Servers.Add(new ServerInfo(name, kind, name));
            report.Results.Add(Measured(name, workload.Name, rounds));
        }

        Ratios.Compute(report.Results);
        return report;
    }

    private static Measurement Measured(string server, string workload, double[] rounds)
    {
        var m = new Measurement { Server = server, Workload = workload, Status = Measurement.Ok };
        for (int i = 0; i < rounds.Length; i++)
        {
            m.Add(i + 1, new LoadResult { Messages = (long)rounds[i], MessagesPerSecond = rounds[i], Seconds = 1 });
        }

        m.Summarize();
        return m;
    }

    private static string[] Texts(XDocument svg) =>
        svg.Descendants(s_svg + "text").Select(t => t.Value.Trim()).ToArray();

    /// <summary>The filled rectangle of that colour (a bar is drawn once filled, once outlined).</summary>
    private static double BarWidth(XDocument svg, string color) =>
        svg.Descendants(s_svg + "rect")
            .Where(r => Color(r.Attribute("fill")?.Value) == color)
            .Select(r => double.Parse(r.Attribute("width")!.Value, CultureInfo.InvariantCulture))
            .Distinct()
            .Single();

    /// <summary>The horizontal runs of the whiskers: black paths of three segments (cap, line, cap).</summary>
    private static double[] Whiskers(XDocument svg) =>
        svg.Descendants(s_svg + "path")
            .Where(p => p.Attribute("stroke")?.Value == "black")
            .Select(p => Points(p.Attribute("d")!.Value))
            .Where(points => points.Count == 6)
            .Select(points => points[3].X - points[2].X)
            .ToArray();

    private static List<(double X, double Y)> Points(string path) =>
        Regex.Matches(path, @"[ML]\s*(-?[\d.]+)[ ,](-?[\d.]+)")
            .Select(m => (double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)))
            .ToList();

    /// <summary>#rgb or #rrggbb, lower case, as #rrggbb.</summary>
    private static string? Color(string? value) =>
        value is { Length: 4 } v && v[0] == '#'
            ? $"#{v[1]}{v[1]}{v[2]}{v[2]}{v[3]}{v[3]}".ToLowerInvariant()
            : value?.ToLowerInvariant();
}
