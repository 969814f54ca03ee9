using System;
using System.Collections.Generic;
using Proactor.Bench.Servers;

namespace Proactor.Bench.Cli;

/// <summary>How much of the matrix a comparison runs.</summary>
internal enum RunProfile
{
    /// <summary>The default backend against System.Net.Sockets, four workloads, three rounds: under a minute.</summary>
    Quick,

    /// <summary>Every server, the main workloads and idle scaling, fitted to about two minutes.</summary>
    Default,

    /// <summary>Every server and workload, 5 s each.</summary>
    Full,
}

/// <summary>What <c>compare</c> was asked to do, checked (see <see cref="CompareSettings"/> for the command line).</summary>
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

    /// <summary>Most warm-up beyond the pass while a server's JIT compiler is busy; null: the profile's.</summary>
    public TimeSpan? JitWarmup { get; init; }

    public int? Connections { get; init; }

    public int? MessageSize { get; init; }

    public int? InFlight { get; init; }

    public IReadOnlyList<int>? IdleCounts { get; init; }

    public IReadOnlyList<ServerSpec> Externals { get; init; } = [];

    /// <summary>The folder under which <c>&lt;timestamp&gt;/</c> is created.</summary>
    public string OutputRoot { get; init; } = "results";

    public bool Pin { get; init; } = true;

    /// <summary>Interleaved rounds; null: the profile's (3).</summary>
    public int? Rounds { get; init; }

    /// <summary>Event loops of the load generator; null: one per CPU it runs on.</summary>
    public int? LoadLoops { get; init; }

    /// <summary>Backend of the load generator's clients; null: <see cref="Load.LoadGenerator.DefaultBackend"/>.</summary>
    public string? LoadBackend { get; init; }

    /// <summary>How long the run waits for a busy machine to become idle before it starts (no
    /// command-line option: the tests, which measure nothing, set zero).</summary>
    public TimeSpan IdleWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>True when <c>--connections/--size/--in-flight</c> describe one custom workload.</summary>
    public bool HasCustomWorkload => Connections is not null || MessageSize is not null || InFlight is not null;

    /// <summary>Parses <c>compare</c>'s arguments exactly as the program does (the tests use it).</summary>
    public static CompareOptions Parse(string[] args) => BenchCli.Parse<CompareSettings>("compare", args).ToOptions();
}
