using System;
using System.ComponentModel;
using System.Globalization;
using System.Linq;
using Proactor.Bench.Servers;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Proactor.Bench.Cli;

/// <summary>The command line of <c>compare</c>, as Spectre.Console.Cli binds it; <see cref="ToOptions"/>
/// turns it into the checked <see cref="CompareOptions"/> (and is what <see cref="Validate"/> runs).</summary>
internal sealed class CompareSettings : CommandSettings
{
    [CommandOption("--quick")]
    [Description("The default backend against System.Net.Sockets, four workloads, 3 rounds: under a minute")]
    public bool Quick { get; set; }

    [CommandOption("--full")]
    [Description("Every server and workload, 5 s per measurement")]
    public bool Full { get; set; }

    [CommandOption("--servers|--server <NAMES>")]
    [Description("Only these servers, comma-separated (names as listed at the start of a run; 'default' is the default backend)")]
    public string? Servers { get; set; }

    [CommandOption("--workloads|--workload <NAMES>")]
    [Description("Only these workloads (pingpong-1, pingpong-64, pingpong-1000, stream, churn, idle-1000, ...)")]
    public string? Workloads { get; set; }

    [CommandOption("--rounds <N>")]
    [Description("Interleaved rounds (A B C A B C ...); each cell reports the median and min-max of the rounds. Default 3")]
    public string? Rounds { get; set; }

    [CommandOption("--duration <TIME>")]
    [Description("Measured time per server, workload and round (2, 1.5s, 500ms)")]
    public string? Duration { get; set; }

    [CommandOption("--warmup <TIME>")]
    [Description("Discarded warm-up: every new server process runs each workload this long before it is measured")]
    public string? Warmup { get; set; }

    [CommandOption("--jit-warmup <TIME>")]
    [Description("Most warm-up a server process gets beyond that while its JIT compiler is still busy: a workload runs again while the compiler took over 3% of its last run. Default 0")]
    public string? JitWarmup { get; set; }

    [CommandOption("-c|--connections <N>")]
    [Description("One custom ping-pong workload: N connections,")]
    public string? Connections { get; set; }

    [CommandOption("-s|--size <BYTES>")]
    [Description("B bytes per message (64, 4k),")]
    public string? Size { get; set; }

    [CommandOption("--in-flight|--depth <N>")]
    [Description("N messages in flight per connection")]
    public string? InFlight { get; set; }

    [CommandOption("--idle <COUNTS>")]
    [Description("Idle connection counts of the idle-scaling workloads (0,1000,10000)")]
    public string? Idle { get; set; }

    [CommandOption("--external <NAME=CMD>")]
    [Description("Also run an external echo server (repeatable); CMD gets the port at {port}. See docs/bench.md")]
    public string[] External { get; set; } = [];

    [CommandOption("-o|--out <DIR>")]
    [Description("Results folder root")]
    [DefaultValue("results")]
    public string Out { get; set; } = "results";

    [CommandOption("--no-pin")]
    [Description("Do not pin server and load generator to different CPUs")]
    public bool NoPin { get; set; }

    [CommandOption("--loadgen-loops <N>")]
    [Description("Event loops of the load generator (default: one per CPU it is pinned to)")]
    public string? LoadLoops { get; set; }

    [CommandOption("--loadgen-backend <NAME>")]
    [Description("Backend of the load generator's clients (default: io_uring where the kernel allows it, else epoll-et)")]
    public string? LoadBackend { get; set; }

    public override ValidationResult Validate() => Values.Validate(() =>
    {
        _ = ToOptions();
    });

    public CompareOptions ToOptions()
    {
        const string C = "compare";
        if (Quick && Full)
        {
            throw new UsageException("compare: choose one of --quick and --full.");
        }

        var externals = External.Select(ExternalServer.Parse).ToList();
        string? duplicate = externals.GroupBy(e => e.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (duplicate is not null)
        {
            throw new UsageException($"compare: two --external servers are named '{duplicate}'.");
        }

        return new CompareOptions
        {
            Profile = Quick ? RunProfile.Quick : Full ? RunProfile.Full : RunProfile.Default,
            Servers = Servers is null ? null : Values.List(C, "--servers", Servers),
            Workloads = Workloads is null ? null : Values.List(C, "--workloads", Workloads),
            Rounds = Rounds is { } r ? Values.Int(C, "--rounds", r, 1, 100) : null,
            Duration = Duration is null ? null : Values.Duration(C, "--duration", Duration, TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(10)),
            Warmup = Warmup is null ? null : Values.Duration(C, "--warmup", Warmup, TimeSpan.Zero, TimeSpan.FromMinutes(1)),
            JitWarmup = JitWarmup is null ? null : Values.Duration(C, "--jit-warmup", JitWarmup, TimeSpan.Zero, TimeSpan.FromMinutes(5)),
            Connections = Connections is { } c ? Values.Int(C, "--connections", c, 1, 50_000) : null,
            MessageSize = Size is null ? null : Values.Size(C, "--size", Size, 1, 16 * 1024 * 1024),
            InFlight = InFlight is { } f ? Values.Int(C, "--in-flight", f, 1, 4096) : null,
            IdleCounts = Idle is null ? null : Values.List(C, "--idle", Idle).Select(ParseCount).ToList(),
            Externals = externals,
            OutputRoot = Out,
            Pin = !NoPin,
            LoadLoops = LoadLoops is { } l ? Values.Int(C, "--loadgen-loops", l, 1, 256) : null,
            LoadBackend = LoadBackend is { } b ? LoadBackendName(b) : null,
        };
    }

    /// <summary>A backend the load generator can run on here, or a usage error saying why not.</summary>
    private static string LoadBackendName(string name)
    {
        _ = BackendNames.ParseBackend(name);
        if (Proactor.Bench.Load.LoadGenerator.Unavailable(name) is { } why)
        {
            throw new UsageException($"compare: --loadgen-backend {name} is not available here: {why}");
        }

        return name;
    }

    private static int ParseCount(string item) =>
        int.TryParse(item, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0 && n <= 100_000
            ? n
            : throw new UsageException($"compare: --idle needs counts from 0 to 100000 separated by commas, not '{item}'.");
}
