using System.Collections.Generic;

namespace Proactor.Bench.Compare;

/// <summary>Everything one comparison run produced: what results.json holds.</summary>
internal sealed class ComparisonReport
{
    public string StartedAt { get; set; } = "";

    public string Command { get; set; } = "";

    public string Profile { get; set; } = "";

    public double DurationSeconds { get; set; }

    public double WarmupSeconds { get; set; }

    /// <summary>The runtime setting the measured processes ran with (see <c>SelfLauncher.SteadyTiering</c>).</summary>
    public string Tiering { get; set; } = "";

    /// <summary>Interleaved rounds: every cell's figures are the median of this many runs.</summary>
    public int Rounds { get; set; }

    /// <summary>The idle-machine check before the start, one line (a warning when not idle).</summary>
    public string? IdleCheck { get; set; }

    /// <summary>True when other processes kept the machine busy before the start.</summary>
    public bool MachineBusy { get; set; }

    public double ElapsedSeconds { get; set; }

    public MachineInfo Machine { get; set; } = new();

    public List<ServerInfo> Servers { get; set; } = [];

    public List<UnavailableInfo> Unavailable { get; set; } = [];

    public List<Workload> Workloads { get; set; } = [];

    public List<Measurement> Results { get; set; } = [];
}

internal sealed class MachineInfo
{
    public string Os { get; set; } = "";

    public string Runtime { get; set; } = "";

    public int ProcessorCount { get; set; }

    public string ServerCpus { get; set; } = "";

    public string LoadGeneratorCpus { get; set; } = "";

    public long? DescriptorLimit { get; set; }

    /// <summary>Event loops the load generator ran its connections on.</summary>
    public int LoadGeneratorLoops { get; set; }

    public List<string> Notes { get; set; } = [];
}

internal sealed record ServerInfo(string Name, string Kind, string Description);

internal sealed record UnavailableInfo(string Name, string Reason);
