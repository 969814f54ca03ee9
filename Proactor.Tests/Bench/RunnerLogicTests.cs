using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Bench.Cli;
using Proactor.Bench.Compare;
using Proactor.Bench.Load;
using Proactor.Bench.Os;
using Proactor.Bench.Reports;
using Proactor.Tests.Infrastructure;
using Spectre.Console;

namespace Proactor.Tests.Bench;

/// <summary>
/// The comparison runner's arithmetic and bookkeeping, on made-up figures (nothing here is
/// timed): round order, medians and spreads, per-round ratios, the "≈" rule, the idle check's
/// reading of /proc/stat, and <c>--help</c> on every command.
/// </summary>
[TestFixture]
public sealed class RunnerLogicTests
{
    [Test]
    public void Rounds_interleave_the_servers()
    {
        string[] order = RoundSchedule.Order(["A", "B", "C"], 3).Select(x => $"{x.Server}{x.Round}").ToArray();
        Assert.That(order, Is.EqualTo(new[] { "A0", "B0", "C0", "A1", "B1", "C1", "A2", "B2", "C2" }));
    }

    [Test]
    public void A_round_measures_each_workload_on_every_server_back_to_back()
    {
        // C does not run w2: it is left out of w2's turn, and the others keep their order.
        string[] order = RoundSchedule.Cells(["A", "B", "C"], ["w1", "w2", "w3"], (s, w) => !(s == "C" && w == "w2"))
            .Select(x => $"{x.Workload}{x.Server}").ToArray();
        Assert.That(order, Is.EqualTo(new[] { "w1A", "w1B", "w1C", "w2A", "w2B", "w3A", "w3B", "w3C" }));
    }

    [Test]
    public void Quick_and_default_profiles_run_at_least_three_rounds()
    {
        Assert.That(ComparePlan.DefaultRounds, Is.GreaterThanOrEqualTo(3));
        Assert.That(CompareOptions.Parse(["--quick"]).Rounds, Is.Null, "the profile's default applies");
        Assert.That(CompareOptions.Parse(["--rounds", "5"]).Rounds, Is.EqualTo(5));
    }

    [TestCase(new[] { 5.0, 1.0, 3.0 }, 3.0, 1.0, 5.0)]
    [TestCase(new[] { 4.0, 1.0, 3.0, 2.0 }, 2.5, 1.0, 4.0)]
    [TestCase(new[] { 7.0 }, 7.0, 7.0, 7.0)]
    [TestCase(new[] { 2.0, double.NaN, 4.0 }, 3.0, 2.0, 4.0)]
    public void Spread_is_median_min_and_max(double[] values, double median, double min, double max)
    {
        Spread s = Spread.Of(values)!;
        Assert.That((s.Median, s.Min, s.Max), Is.EqualTo((median, min, max)));
        Assert.That(s.Count, Is.EqualTo(values.Count(v => !double.IsNaN(v))));
    }

    [Test]
    public void No_values_no_spread() => Assert.That(Spread.Of([]), Is.Null);

    [TestCase(new[] { 0.9, 1.2, 1.1 }, true, "≈ (0.90–1.20)")]
    [TestCase(new[] { 1.05, 1.2, 1.1 }, false, "1.10× (1.05–1.20)")]
    [TestCase(new[] { 0.5, 0.6, 0.7 }, false, "0.60× (0.50–0.70)")]
    [TestCase(new[] { 1.0, 1.0, 1.0 }, false, "1.00×")]
    [TestCase(new[] { 0.8 }, false, "0.80×")]
    public void A_ratio_whose_rounds_straddle_one_prints_approximately(double[] ratios, bool straddles, string printed)
    {
        Spread s = Spread.Of(ratios)!;
        Assert.That(s.StraddlesOne, Is.EqualTo(straddles));
        Assert.That(Format.Ratio(s), Is.EqualTo(printed));
    }

    [Test]
    public void Ratios_pair_each_round_with_the_baselines_same_round()
    {
        // The baseline is slow in round 0 (say, right after a build) and normal later; the other
        // server is steady. A ratio of medians would hide nothing here, but per-round ratios must
        // pair round 0 with round 0: 2.0, 1.0, 1.0.
        Measurement baseline = Cell("sockets", 500, 1000, 1000);
        Measurement other = Cell("io_uring", 1000, 1000, 1000);
        Ratios.Compute([baseline, other]);

        Assert.That(other.RatioMessagesPerSecondSpread, Is.EqualTo(new Spread(1.0, 1.0, 2.0, 3)));
        Assert.That(other.RatioMessagesPerSecond, Is.EqualTo(1.0));
        Assert.That(baseline.RatioMessagesPerSecond, Is.EqualTo(1.0));
        Assert.That(other.MessagesPerSecond, Is.EqualTo(new Spread(1000, 1000, 1000, 3)));
        Assert.That(other.RatioCpuPerMessageSpread!.Median, Is.EqualTo(0.5), "CPU: 5 µs against 10 µs");
    }

    [Test]
    public void A_failed_round_is_left_out_of_the_figures_and_reported()
    {
        var m = new Measurement { Server = "epoll-et", Workload = "pingpong-1", Status = Measurement.Ok };
        m.Add(0, Figures(100, 10));
        m.Add(1, new LoadResult { Fatal = "the server process exited" });
        m.Add(2, Figures(300, 10));
        m.Summarize();

        Assert.That(m.MessagesPerSecond, Is.EqualTo(new Spread(200, 100, 300, 2)));
        Assert.That(m.Status, Is.EqualTo(Measurement.WithErrors));
        Assert.That(m.Reason, Does.Contain("1 of 3 rounds failed").And.Contain("exited"));
    }

    [Test]
    public void A_cell_without_a_good_round_fails()
    {
        var m = new Measurement { Server = "poll", Workload = "churn", Status = Measurement.Ok };
        m.Add(0, new LoadResult { Fatal = "connection refused" });
        m.Summarize();
        Assert.That(m.Status, Is.EqualTo(Measurement.Failed));
        Assert.That(m.HasFigures, Is.False);
        Assert.That(m.Reason, Does.Contain("connection refused"));
    }

    [Test]
    public void Proc_stat_busy_time_leaves_out_idle_and_iowait()
    {
        const string Stat = "cpu  100 20 30 1000 50 5 5 10 7 0\ncpu0 50 10 15 500 25 2 3 5 0 0\nintr 12345\n";
        IdleCheck.CpuTicks? t = IdleCheck.Parse(Stat);

        // busy = user + nice + system + irq + softirq + steal = 100+20+30+5+5+10 (guest is inside user)
        Assert.That(t, Is.EqualTo(new IdleCheck.CpuTicks(170, 1220)));
        Assert.That(IdleCheck.Parse("intr 1 2 3\n"), Is.Null);
        Assert.That(IdleCheck.Parse("cpu  a b c d e\n"), Is.Null);
    }

    [Test]
    public void The_idle_check_subtracts_our_own_cpu_time()
    {
        var before = new IdleCheck.CpuTicks(1000, 10_000);
        var after = new IdleCheck.CpuTicks(1150, 10_200); // 150 ticks busy = 1.5 s at 100 Hz

        // Over 1 s, we used 0.5 s ourselves: others kept one CPU busy.
        Assert.That(IdleCheck.OtherCpus(before, after, ownSeconds: 0.5, windowSeconds: 1, clockTicksPerSecond: 100), Is.EqualTo(1.0).Within(1e-9));
        Assert.That(IdleCheck.OtherCpus(before, after, ownSeconds: 2, windowSeconds: 1, clockTicksPerSecond: 100), Is.Zero, "never negative");

        var busy = new IdleCheck.Result(1.0, 2, TimeSpan.FromSeconds(1));
        var idle = new IdleCheck.Result(0.02, 2, TimeSpan.FromSeconds(1));
        Assert.That(busy.IsIdle, Is.False);
        Assert.That(busy.Describe(), Does.StartWith("WARNING").And.Contain("1.00 of 2 CPUs"));
        Assert.That(idle.IsIdle, Is.True);
        Assert.That(idle.Describe(), Does.Not.Contain("WARNING").And.Not.Contain("waiting"), "idle at once: no wait to mention");
        Assert.That((idle with { Waited = TimeSpan.FromSeconds(2.5) }).Describe(), Does.EndWith("after waiting 2.5 s for them to finish"));
    }

    [Test]
    [Platform("Linux")]
    public async Task The_idle_check_waits_while_another_process_keeps_a_cpu_busy()
    {
        // A process that spins for 3 s: no 0.25 s window is idle while it runs, so the check
        // keeps sampling (correct code returns after 1.5 s at the earliest, busy or not). The
        // check starts only once the burner says it spins: on a busy machine starting it can
        // take longer than any fixed delay (CI once measured its first window before it ran).
        var start = new System.Diagnostics.ProcessStartInfo("timeout", "3 sh -c \"echo spinning; while :; do :; done\"")
        {
            RedirectStandardOutput = true,
        };
        using var burner = System.Diagnostics.Process.Start(start)!;
        Assert.That(await burner.StandardOutput.ReadLineAsync().Timeout(), Is.EqualTo("spinning"));

        IdleCheck.Result? result = await IdleCheck.MeasureUntilIdleAsync(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(4));

        Assert.That(result, Is.Not.Null);
        Assert.That(result!.Waited, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1.5)), result.Describe());
        if (result.IsIdle)
        {
            Assert.That(result.Describe(), Does.Contain("after waiting"));
        }

        await burner.WaitForExitAsync().Timeout();
    }

    [Test]
    public void A_busy_machine_is_a_warning_in_the_report()
    {
        var report = new ComparisonReport
        {
            Rounds = 3,
            IdleCheck = new IdleCheck.Result(1.2, 2, TimeSpan.FromSeconds(1)).Describe(),
            MachineBusy = true,
        };
        string md = ReportWriter.Markdown(report, false, false);
        Assert.That(md, Does.Contain("**WARNING: the machine was not idle"));
        Assert.That(md, Does.Contain("3 interleaved rounds"));
    }

    [Test]
    public void The_report_gives_each_latency_percentile_with_the_spread_of_its_rounds()
    {
        // Two of five rounds stalled (a blocked handler): the median alone would hide them.
        Workload workload = WorkloadCatalog.PingPong(64);
        var report = new ComparisonReport { Rounds = 5, Workloads = [workload] };
        report.Servers.Add(new ServerInfo("default+block", "external", "default+block"));
        var m = new Measurement { Server = "default+block", Workload = workload.Name, Status = Measurement.Ok };
        double[] p99 = [10_700, 1_200, 1_250, 10_650, 1_300];
        for (int i = 0; i < p99.Length; i++)
        {
            m.Add(i + 1, new LoadResult { Messages = 100_000, MessagesPerSecond = 100_000, Seconds = 1, P50Us = 500 + i, P99Us = p99[i], P999Us = 11_000 });
        }

        m.Summarize();
        report.Results.Add(m);

        string md = ReportWriter.Markdown(report, false, false);
        string row = md.Split('\n').Single(l => l.StartsWith("| default+block |", StringComparison.Ordinal));
        string[] cells = row.Split('|').Select(c => c.Trim()).ToArray();
        Assert.That(cells[5..8], Is.EqualTo(new[] { "502 (500–504)", "1,300 (1,200–10,700)", "11,000 (11,000–11,000)" }), row);
        Assert.That(m.Result!.P99Us, Is.EqualTo(1_300), "results.json's summary keeps the median");
    }

    [Test]
    public void Resident_memory_is_read_from_the_VmRSS_line()
    {
        const string Status = "Name:\tProactor.Bench\nVmPeak:\t  999 kB\nVmRSS:\t    2028 kB\nRssAnon:\t 1000 kB\n";
        Assert.That(ProcessMemory.ParseVmRss(Status), Is.EqualTo(2028L * 1024));
        Assert.That(ProcessMemory.ParseVmRss("Name:\tx\n"), Is.Null);
        Assert.That(ProcessMemory.ParseVmRss("VmRSS:\t lots kB\n"), Is.Null);
    }

    [Test]
    public void Bytes_per_idle_connection_is_the_growth_over_the_count()
    {
        var row = new Proactor.Bench.Idle.IdleCommand.Row("epoll-et", 1000, 40L << 20, (40L << 20) + 512_000, null);
        Assert.That(row.BytesPerConnection, Is.EqualTo(512.0));
        Assert.That(new Proactor.Bench.Idle.IdleCommand.Row("x", 1000, null, 5, "no /proc").BytesPerConnection, Is.Null);
    }

    [TestCase("pingpong-8", 8, 64, 1)]
    [TestCase("pingpong-16KiB-16", 16, 16384, 1)]
    [TestCase("pingpong-64x16", 64, 64, 16)]
    [TestCase("PINGPONG-4kib-1000", 1000, 4096, 1)]
    public void Ping_pong_workloads_can_be_named_by_their_parameters(string name, int connections, int size, int inFlight)
    {
        Workload w = WorkloadCatalog.TryParse(name)!;
        Assert.That((w.Connections, w.MessageSize, w.InFlight, w.Mode), Is.EqualTo((connections, size, inFlight, LoadMode.PingPong)));
    }

    [TestCase("pingpong-0")]
    [TestCase("pingpong-64KB-8")]
    [TestCase("pingpong")]
    [TestCase("streamish-8")]
    public void Unknown_workload_names_are_refused(string name) => Assert.That(WorkloadCatalog.TryParse(name), Is.Null);

    [TestCase("compare", "--quick", "--rounds", "--external")]
    [TestCase("serve", "--backend", "--dispatch", "--port")]
    [TestCase("idle", "--connections", "--servers", "--external")]
    [TestCase("timers", "--count", "--spread", "--backends")]
    [TestCase("micro", "filter", "BenchmarkDotNet", "--help")]
    [TestCase("http", "--rounds", "--workloads", "--wrk")]
    [TestCase("http-serve", "--transport", "--backend", "--port")]
    public async Task Every_command_has_help(string command, string a, string b, string c)
    {
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 200;

        int exit = await BenchCli.RunAsync([command, "--help"], console).Timeout();

        Assert.That(exit, Is.Zero);
        Assert.That(output.ToString(), Does.Contain(a).And.Contain(b).And.Contain(c).And.Contain("USAGE"));
    }

    private static LoadResult Figures(double rate, double cpuUs) => new()
    {
        Messages = (long)rate,
        Seconds = 1,
        MessagesPerSecond = rate,
        ServerCpuUsPerMessage = cpuUs,
    };

    private static Measurement Cell(string server, params double[] rates)
    {
        var m = new Measurement { Server = server, Workload = "pingpong-64", Status = Measurement.Ok };
        for (int i = 0; i < rates.Length; i++)
        {
            m.Add(i, Figures(rates[i], server == "sockets" ? 10 : 5));
        }

        m.Summarize();
        return m;
    }
}
