using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Proactor.Bench.Servers;

namespace Proactor.Bench.Cli;

/// <summary>How much of the matrix a comparison runs.</summary>
internal enum RunProfile
{
    /// <summary>The default backend against System.Net.Sockets, four workloads, 1 s each: under 30 s.</summary>
    Quick,

    /// <summary>Every server, the main workloads and idle scaling, fitted to about two minutes.</summary>
    Default,

    /// <summary>Every server and workload, 5 s each.</summary>
    Full,
}

/// <summary>
/// <c>compare [--quick|--full] [--servers a,b] [--workloads x,y] [--duration T] [--warmup T]
/// [--connections N] [--size B] [--in-flight N] [--idle 0,1000,10000] [--external NAME=COMMAND]...
/// [--out DIR] [--no-pin]</c>.
/// </summary>
internal sealed record CompareOptions
{
    public RunProfile Profile { get; init; } = RunProfile.Default;

    /// <summary>Server names to run (case-insensitive); null: the profile's set.</summary>
    public IReadOnlyList<string>? Servers { get; init; }

    /// <summary>Workload names to run; null: the profile's set.</summary>
    public IReadOnlyList<string>? Workloads { get; init; }

    /// <summary>Measured window per server and workload; null: the profile's.</summary>
    public TimeSpan? Duration { get; init; }

    public TimeSpan? Warmup { get; init; }

    public int? Connections { get; init; }

    public int? MessageSize { get; init; }

    public int? InFlight { get; init; }

    public IReadOnlyList<int>? IdleCounts { get; init; }

    public IReadOnlyList<ServerSpec> Externals { get; init; } = [];

    /// <summary>The folder under which <c>&lt;timestamp&gt;/</c> is created.</summary>
    public string OutputRoot { get; init; } = "results";

    public bool Pin { get; init; } = true;

    /// <summary>True when <c>--connections/--size/--in-flight</c> describe one custom workload.</summary>
    public bool HasCustomWorkload => Connections is not null || MessageSize is not null || InFlight is not null;

    public static CompareOptions Parse(IReadOnlyList<string> args)
    {
        var reader = new ArgumentReader(args, "compare");
        var options = new CompareOptions();
        bool quick = false, full = false;
        var externals = new List<ServerSpec>();
        while (reader.Next(out string arg))
        {
            switch (arg)
            {
                case "--quick":
                    quick = true;
                    break;
                case "--full":
                    full = true;
                    break;
                case "--servers":
                case "--server":
                    options = options with { Servers = reader.List(arg) };
                    break;
                case "--workloads":
                case "--workload":
                    options = options with { Workloads = reader.List(arg) };
                    break;
                case "--duration":
                    options = options with { Duration = reader.Duration(arg, TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(10)) };
                    break;
                case "--warmup":
                    options = options with { Warmup = reader.Duration(arg, TimeSpan.Zero, TimeSpan.FromMinutes(1)) };
                    break;
                case "--connections":
                case "-c":
                    options = options with { Connections = reader.Int(arg, 1, 50_000) };
                    break;
                case "--size":
                case "-s":
                    options = options with { MessageSize = reader.Size(arg, 1, 16 * 1024 * 1024) };
                    break;
                case "--in-flight":
                case "--depth":
                    options = options with { InFlight = reader.Int(arg, 1, 4096) };
                    break;
                case "--idle":
                    options = options with { IdleCounts = ParseCounts(reader.List(arg)) };
                    break;
                case "--external":
                    externals.Add(ExternalServer.Parse(reader.Value(arg)));
                    break;
                case "--out":
                case "-o":
                    options = options with { OutputRoot = reader.Value(arg) };
                    break;
                case "--no-pin":
                    options = options with { Pin = false };
                    break;
                default:
                    throw reader.Unknown(arg);
            }
        }

        if (quick && full)
        {
            throw new UsageException("compare: choose one of --quick and --full.");
        }

        string? duplicate = externals.GroupBy(e => e.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (duplicate is not null)
        {
            throw new UsageException($"compare: two --external servers are named '{duplicate}'.");
        }

        return options with
        {
            Profile = quick ? RunProfile.Quick : full ? RunProfile.Full : RunProfile.Default,
            Externals = externals,
        };
    }

    private static List<int> ParseCounts(List<string> items)
    {
        var counts = new List<int>();
        foreach (string item in items)
        {
            if (!int.TryParse(item, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < 0 || n > 100_000)
            {
                throw new UsageException($"compare: --idle needs counts from 0 to 100000 separated by commas, not '{item}'.");
            }

            counts.Add(n);
        }

        return counts;
    }
}
