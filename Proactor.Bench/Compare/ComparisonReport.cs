using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Proactor.Bench.Compare;

/// <summary>Everything one comparison run produced: what results.json holds.</summary>
internal sealed class ComparisonReport
{
    public string StartedAt { get; set; } = "";

    public string Command { get; set; } = "";

    public string Profile { get; set; } = "";

    public double DurationSeconds { get; set; }

    public double WarmupSeconds { get; set; }

    /// <summary>The most warm-up a server process gets beyond its pass while its JIT compiler is busy.</summary>
    public double MaxExtraWarmupSeconds { get; set; }

    /// <summary>Each server process's warm-up beyond its pass, in the order they ran.</summary>
    public List<WarmupInfo> Warmups { get; set; } = [];

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

    /// <summary>One line on the JIT compiler of our servers during the measured runs (the busiest
    /// run and how many were above <see cref="ComparePlan.QuietJitShare"/>); null when no server
    /// had one to ask.</summary>
    public string? JitNote()
    {
        var watched = Results.SelectMany(m => m.Rounds.Where(r => r.JitShare is not null)
            .Select(r => (m.Server, m.Workload, r.Round, Share: r.JitShare!.Value))).ToList();
        if (watched.Count == 0)
        {
            return null;
        }

        var busiest = watched.MaxBy(w => w.Share);
        int busy = watched.Count(w => w.Share > ComparePlan.QuietJitShare);
        string hint = busy > 0 && MaxExtraWarmupSeconds == 0 ? " (--jit-warmup TIME warms each server up longer while its compiler is busy)" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"JIT compiler during the measured runs: at most {busiest.Share:0.#%} of a run's time ({busiest.Server}, {busiest.Workload}, round {busiest.Round + 1}); {busy} of {watched.Count} runs above {ComparePlan.QuietJitShare:0%}{hint}");
    }
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

    /// <summary>The backend of the load generator's client engines (inline dispatch).</summary>
    public string LoadGeneratorBackend { get; set; } = "";

    public List<string> Notes { get; set; } = [];
}

internal sealed record ServerInfo(string Name, string Kind, string Description);

internal sealed record UnavailableInfo(string Name, string Reason);

/// <summary>One server process's warm-up: how long it ran beyond the pass because its JIT compiler
/// was still busy, and what the compiler did during each run (none listed: nothing to ask).</summary>
internal sealed class WarmupInfo
{
    public string Server { get; set; } = "";

    public int Round { get; set; }

    /// <summary>Seconds of warm-up beyond the pass (0: the pass was enough, or nothing to ask).</summary>
    public double ExtraSeconds { get; set; }

    /// <summary>Workloads during whose last warm-up run the JIT compiler was still busy when the
    /// warm-up ended (its time was up).</summary>
    public List<string> StillBusy { get; set; } = [];

    /// <summary>Every warm-up run of the process, with what the JIT compiler did meanwhile.</summary>
    public List<WarmupRun> Runs { get; set; } = [];
}

/// <summary>One warm-up run: the workload, its seconds, and the JIT compiler's share of them and methods compiled.</summary>
internal sealed record WarmupRun(string Workload, double Seconds, double JitShare, long JitMethods);
