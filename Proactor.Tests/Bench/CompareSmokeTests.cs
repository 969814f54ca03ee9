using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Bench.Cli;
using Proactor.Bench.Compare;
using Proactor.Bench.Reports;
using Proactor.Tests.Infrastructure;
using Spectre.Console;

namespace Proactor.Tests.Bench;

/// <summary>
/// <c>compare --quick</c> end to end against two servers for about a second: real server and load
/// generator processes, the table, and a results folder whose files hold non-zero figures.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class CompareSmokeTests
{
    private string _root = null!;

    [SetUp]
    public void CreateFolder() => _root = Directory.CreateTempSubdirectory("proactor-bench-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task Quick_compare_writes_a_report_with_figures()
    {
        CompareOptions options = CompareOptions.Parse([
            "--quick", "--servers", "default,sockets", "--workloads", "pingpong-64,stream",
            "--duration", "250ms", "--warmup", "100ms", "--rounds", "2", "--out", _root,
        ]) with { IdleWait = TimeSpan.Zero }; // a test measures nothing: no waiting for a busy CI machine
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 200;

        ComparisonReport report = await CompareCommand.RunAsync(options, console, "compare --quick (test)").Timeout();

        string text = output.ToString();
        Assert.That(report.Results, Has.Count.EqualTo(4), text);
        Assert.That(report.Results.Select(r => r.Rounds.Count), Is.All.EqualTo(2), "every cell measured once per round");

        // Server CPU is read in 10 ms ticks: on a busy machine one short quick run of a server may
        // get fewer than one, but a runner that never measures CPU reads zero everywhere.
        Assert.That(report.Results.Any(m => m.Result?.ServerCpuUsPerMessage > 0), Is.True, "server CPU was measured");
        foreach (Measurement m in report.Results)
        {
            Assert.That(m.Status, Is.EqualTo(Measurement.Ok), $"{m.Server}/{m.Workload}: {m.Reason}");
            Assert.That(m.Result!.MessagesPerSecond, Is.GreaterThan(0), $"{m.Server}/{m.Workload}");
            Assert.That(m.Result.MegabytesPerSecond, Is.GreaterThan(0), $"{m.Server}/{m.Workload}");
            Assert.That(m.Result.P50Us, Is.GreaterThan(0), $"{m.Server}/{m.Workload}");
            Assert.That(m.Result.P99Us, Is.GreaterThanOrEqualTo(m.Result.P50Us), $"{m.Server}/{m.Workload}");
            Assert.That(m.Result.ServerCpuUsPerMessage, Is.GreaterThanOrEqualTo(0), $"{m.Server}/{m.Workload}");
            Assert.That(m.RatioMessagesPerSecond, Is.GreaterThan(0), $"{m.Server}/{m.Workload}");
        }

        Assert.That(report.Results.Where(r => r.Server == "sockets").Select(r => r.RatioMessagesPerSecond), Is.All.EqualTo(1.0));
        Assert.That(text, Does.Contain("pingpong-64").And.Contain("stream").And.Contain("sockets"), "the table");

        string folder = Directory.GetDirectories(_root).Single();
        string markdown = await File.ReadAllTextAsync(Path.Combine(folder, ReportWriter.MarkdownFile));
        Assert.That(markdown, Does.Contain("### pingpong-64").And.Contain("| sockets |").And.Contain(ReportWriter.ThroughputChart));

        using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, ReportWriter.JsonFile)));
        JsonElement[] results = json.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.That(results, Has.Length.EqualTo(4));
        foreach (JsonElement r in results)
        {
            JsonElement figures = r.GetProperty("result");
            Assert.That(figures.GetProperty("messagesPerSecond").GetDouble(), Is.GreaterThan(0));
            Assert.That(figures.GetProperty("megabytesPerSecond").GetDouble(), Is.GreaterThan(0));
            Assert.That(figures.GetProperty("p99Us").GetDouble(), Is.GreaterThan(0));
            Assert.That(figures.GetProperty("serverCpuUsPerMessage").GetDouble(), Is.GreaterThan(0));
        }

        string svg = await File.ReadAllTextAsync(Path.Combine(folder, ReportWriter.ThroughputChart));
        Assert.That(svg, Does.StartWith("<svg").And.Contain("pingpong-64").And.Contain("<rect"));
    }
}
