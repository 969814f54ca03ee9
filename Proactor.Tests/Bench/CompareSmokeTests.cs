using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Bench.Cli;
using Proactor.Bench.Compare;
using Proactor.Bench.Load;
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

    /// <summary>A console without colours or animation, writing into <c>output</c>.</summary>
    private static (IAnsiConsole Console, StringWriter Output) PlainConsole()
    {
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        return (console, output);
    }

    [Test]
    public async Task Quick_compare_writes_a_report_with_figures()
    {
        CompareOptions options = CompareOptions.Parse([
            "--quick", "--servers", "default,sockets", "--workloads", "pingpong-64,stream",
            "--duration", "250ms", "--warmup", "100ms", "--rounds", "2", "--out", _root,
        ]) with { IdleWait = TimeSpan.Zero }; // a test measures nothing: no waiting for a busy CI machine
        (IAnsiConsole console, StringWriter output) = PlainConsole();
        console.Profile.Width = 200;

        ComparisonReport report = await CompareCommand.RunAsync(options, console, "compare --quick (test)").Timeout();

        string text = output.ToString();
        Assert.That(report.Results, Has.Count.EqualTo(4), text);
        Assert.That(report.Results.Select(r => r.Rounds.Count), Is.All.EqualTo(2), "every cell measured once per round");

        // Server CPU is read in 10 ms ticks: on a busy machine one short quick run of a server may
        // get fewer than one, but a runner that never measures CPU reads zero everywhere.
        Assert.That(report.Results.Any(m => m.Result?.ServerCpuUsPerMessage > 0), Is.True, "server CPU was measured");

        // Its kernel part is read with it: never more than the whole, and not the whole either
        // (a .NET echo server spends user time too; in 10 ms ticks, some round of some cell shows it).
        LoadResult[] runs = report.Results.SelectMany(m => m.Rounds).Select(r => r.Result).ToArray();
        Assert.That(runs.Select(r => r.ServerKernelUsPerMessage), Is.All.Not.Null, "kernel time read in every run");
        Assert.That(runs.Select(r => r.ServerCpuUsPerMessage!.Value - r.ServerKernelUsPerMessage!.Value), Is.All.GreaterThanOrEqualTo(0), "kernel part <= the whole");
        Assert.That(runs.Any(r => r.ServerKernelUsPerMessage > 0), Is.True, "the kernel's part was measured");
        Assert.That(runs.Any(r => r.ServerKernelUsPerMessage < r.ServerCpuUsPerMessage), Is.True, "the kernel's part is not the whole");
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

        // The load generator's clients ran on the default client backend, and the report says which.
        Assert.That(report.Machine.LoadGeneratorBackend, Is.EqualTo(LoadGenerator.DefaultBackend));
        Assert.That(report.Results.Select(m => m.Result!.ClientBackend), Is.All.EqualTo(LoadGenerator.DefaultBackend));

        // Both servers are ours: their JIT compiler is asked around every run, and without
        // --jit-warmup the warm-up is the pass only (each workload once).
        Assert.That(report.Results.SelectMany(m => m.Rounds).Select(r => r.JitShare), Is.All.Not.Null.And.All.InRange(0.0, 1.0), "JIT share of every measured run");
        Assert.That(report.Warmups.Select(w => (w.Server, w.Round)),
            Is.EquivalentTo(report.Servers.SelectMany(s => new[] { (s.Name, 1), (s.Name, 2) })), "one warm-up per server process");
        Assert.That(report.Warmups.Select(w => w.Runs.Select(r => r.Workload)), Is.All.EqualTo(new[] { "pingpong-64", "stream" }), "one warm-up run per workload");
        Assert.That(report.Warmups.Select(w => w.ExtraSeconds), Is.All.Zero);
        Assert.That(report.JitNote(), Does.StartWith("JIT compiler during the measured runs: at most").And.Contain("of 8 runs above 3%"));
        Assert.That(text, Does.Contain("pingpong-64").And.Contain("stream").And.Contain("sockets").And.Contain("kernel"), "the table");

        string folder = Directory.GetDirectories(_root).Single();
        string markdown = await File.ReadAllTextAsync(Path.Combine(folder, ReportWriter.MarkdownFile));
        Assert.That(markdown, Does.Contain("### pingpong-64").And.Contain("| sockets |").And.Contain(ReportWriter.ThroughputChart).And.Contain("| kernel µs/op |"));
        Assert.That(markdown, Does.Contain($"One load generator (Proactor {LoadGenerator.DefaultBackend} clients"));

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
            Assert.That(figures.GetProperty("serverKernelUsPerMessage").GetDouble(), Is.InRange(0, figures.GetProperty("serverCpuUsPerMessage").GetDouble()));
        }

        string svg = await File.ReadAllTextAsync(Path.Combine(folder, ReportWriter.ThroughputChart));
        System.Xml.Linq.XDocument chart = System.Xml.Linq.XDocument.Parse(svg);
        Assert.That(chart.Root!.Name.LocalName, Is.EqualTo("svg"));
        Assert.That(svg, Does.Contain("pingpong-64").And.Contain("<rect"));
    }

    /// <summary>
    /// <c>--loadgen-backend</c> reaches the load generator's process: its clients run on the
    /// backend named (not the default), and the report says so.
    /// </summary>
    [Test]
    public async Task The_load_generator_runs_its_clients_on_the_backend_named()
    {
        const string Backend = "epoll-et";
        Assume.That(LoadGenerator.DefaultBackend, Is.Not.EqualTo(Backend), "the default is the backend named: nothing to tell apart");
        CompareOptions options = CompareOptions.Parse([
            "--servers", "sockets", "--workloads", "pingpong-8", "--loadgen-backend", Backend,
            "--duration", "200ms", "--warmup", "100ms", "--rounds", "1", "--out", _root,
        ]) with { IdleWait = TimeSpan.Zero };
        (IAnsiConsole console, StringWriter output) = PlainConsole();

        ComparisonReport report = await CompareCommand.RunAsync(options, console, "compare --loadgen-backend (test)").Timeout();

        Measurement m = report.Results.Single();
        Assert.That(m.Status, Is.EqualTo(Measurement.Ok), m.Reason);
        Assert.That(m.Result!.ClientBackend, Is.EqualTo(Backend));
        Assert.That(report.Machine.LoadGeneratorBackend, Is.EqualTo(Backend));
        // The console wraps long lines at its width: a line break may fall anywhere in the header.
        Assert.That(System.Text.RegularExpressions.Regex.Replace(output.ToString(), @"\s+", " "), Does.Contain($"1 {Backend} loop"));
    }

    /// <summary>
    /// With <c>--jit-warmup</c>, a workload warms up again while the server's JIT compiler spent
    /// more than 3 % of its last run compiling, until none does or the time is up: after the
    /// warm-up, every workload's last run was quiet, or the extra time reached the limit.
    /// </summary>
    [Test]
    public async Task Jit_warmup_repeats_busy_workloads_until_the_compiler_is_quiet_or_the_time_is_up()
    {
        CompareOptions options = CompareOptions.Parse([
            "--quick", "--servers", "default", "--workloads", "pingpong-8,churn",
            "--duration", "200ms", "--warmup", "150ms", "--jit-warmup", "1500ms", "--rounds", "1", "--out", _root,
        ]) with { IdleWait = TimeSpan.Zero };
        (IAnsiConsole console, StringWriter output) = PlainConsole();

        ComparisonReport report = await CompareCommand.RunAsync(options, console, "compare (test)").Timeout();

        WarmupInfo warmup = report.Warmups.Single();
        TestContext.Out.WriteLine(string.Join(Environment.NewLine, warmup.Runs));
        Assert.That(warmup.Runs.Take(2).Select(r => r.Workload), Is.EqualTo(new[] { "pingpong-8", "churn" }), "the pass first");
        Assert.That(warmup.Runs.Select(r => r.JitShare), Is.All.InRange(0.0, 1.0));
        Assert.That(warmup.Runs[0].JitMethods, Is.GreaterThan(0), "a fresh server compiles during its first run");

        // A workload ran again exactly when its run before was busy.
        for (int i = 2; i < warmup.Runs.Count; i++)
        {
            WarmupRun previous = warmup.Runs.Take(i).Last(r => r.Workload == warmup.Runs[i].Workload);
            Assert.That(previous.JitShare, Is.GreaterThan(ComparePlan.QuietJitShare), $"run {i} ({warmup.Runs[i].Workload}) followed a quiet run");
        }

        var last = warmup.Runs.GroupBy(r => r.Workload).Select(g => g.Last()).ToList();
        Assert.That(warmup.StillBusy, Is.EquivalentTo(last.Where(r => r.JitShare > ComparePlan.QuietJitShare).Select(r => r.Workload)));
        double extra = warmup.Runs.Skip(2).Sum(r => r.Seconds);
        Assert.That(warmup.ExtraSeconds, Is.EqualTo(extra).Within(0.05), "the runs after the pass are the extra time");
        if (warmup.StillBusy.Count > 0)
        {
            Assert.That(warmup.ExtraSeconds, Is.GreaterThanOrEqualTo(1.5), "stopped while busy before the time was up");
        }
    }
}
