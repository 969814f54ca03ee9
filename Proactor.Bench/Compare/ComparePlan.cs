using System;
using System.Collections.Generic;
using System.Linq;
using Proactor.Bench.Cli;
using Proactor.Bench.Load;
using Proactor.Bench.Servers;

namespace Proactor.Bench.Compare;

/// <summary>Which servers meet which workloads, for how long: decided before anything runs, so
/// bad names fail at once and the progress display knows the total.</summary>
internal sealed class ComparePlan
{
    /// <summary>The default profile aims at this total, whatever the number of backends.</summary>
    public static readonly TimeSpan DefaultBudget = TimeSpan.FromSeconds(180);

    public required IReadOnlyList<ServerSpec> Servers { get; init; }

    public required IReadOnlyList<Workload> Workloads { get; init; }

    public required IReadOnlyList<ServerCatalog.Unavailable> Unavailable { get; init; }

    public required TimeSpan Duration { get; init; }

    /// <summary>The discarded warm-up each new server process gets on each of its workloads
    /// before its first measurement (JIT, tiering, pools, the kernel's socket caches).</summary>
    public required TimeSpan Warmup { get; init; }

    /// <summary>The most warm-up a server process gets beyond its pass while its JIT compiler is
    /// still busy (see <see cref="QuietJitShare"/>); none unless <c>--jit-warmup</c> asks for it.</summary>
    /// <remarks>Not by default: the profiles' passes already leave the JIT compiler at most 2-4 % of
    /// the measured runs (six <c>--quick</c> runs, 24 measured runs each, three with up to 2.5 s
    /// more: 1.7-2.6 % without, 3.4-3.8 % with), far below what the machine's own speed moves; a
    /// single workload with the default 1.5 s pass measured 3.2-4.4 % (0-3.3 % with up to 8 s
    /// more, which cost 20 s).</remarks>
    public TimeSpan MaxExtraWarmup { get; init; }

    /// <summary>A run during which the server's JIT compiler spent more than this share of the time
    /// compiling counts as busy (reported; with <c>--jit-warmup</c>, its workload warms up again).
    /// Measured at 64 connections on one core: 12-37 % while a server still replaces its first
    /// code, 1-3 % once it runs at its steady speed.</summary>
    public const double QuietJitShare = 0.03;

    /// <summary>Interleaved rounds (A B C A B C ...).</summary>
    public int Rounds { get; init; } = DefaultRounds;

    /// <summary>Rounds unless <c>--rounds</c> says otherwise: three, so a median exists and one
    /// disturbed round cannot decide a ratio.</summary>
    public const int DefaultRounds = 3;

    /// <summary>Settling time inside each measured run after its connections are open.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(100);

    public required TimeSpan Drain { get; init; }

    /// <summary>Descriptors a server or the load generator may open, after raising the limit.</summary>
    public long? DescriptorLimit { get; init; }

    /// <summary>The workloads <paramref name="server"/> meets (idle scaling only where it is meant to run).</summary>
    public IEnumerable<Workload> WorkloadsOf(ServerSpec server) =>
        Workloads.Where(w => !w.IsIdleScaling || server.RunsIdleScaling || Workloads.All(x => x.IsIdleScaling));

    public int CellCount => Servers.Sum(s => WorkloadsOf(s).Count());

    /// <summary>The workloads of <paramref name="server"/>'s warm-up pass: the idle-scaling ones
    /// only where nothing else runs (their active part is a small ping-pong; their 10 000 idle
    /// connections would only cost time).</summary>
    public IEnumerable<Workload> WarmupWorkloadsOf(ServerSpec server)
    {
        var all = WorkloadsOf(server).Where(w => SkipReason(server, w) is null).ToList();
        var active = all.Where(w => w.Idle == 0).ToList();
        return active.Count > 0 ? active : all.Take(1).Select(w => w with { Idle = 0 });
    }

    /// <summary>Why <paramref name="server"/> cannot run <paramref name="workload"/> here, or null.</summary>
    public string? SkipReason(ServerSpec server, Workload workload)
    {
        if (server.MaxConnections is int max && workload.ServerConnections > max)
        {
            return $"{server.Name} watches descriptors below FD_SETSIZE (1024) only; this workload needs {workload.ServerConnections} connections";
        }

        if (workload.Mode == LoadMode.UdpPingPong && !ServesUdp(server))
        {
            return $"{server.Name} has no UDP echo (its datagrams would be refused, not measured)";
        }

        if (workload.Mode == LoadMode.UnixPingPong && !ServesUnix(server))
        {
            return $"{server.Name} has no Unix listener (sockets and the awaiting Proactor servers have one)";
        }

        if (DescriptorLimit is long limit && workload.ServerConnections + 256 > limit)
        {
            return $"needs {workload.ServerConnections} descriptors; RLIMIT_NOFILE is {limit} and could not be raised";
        }

        return null;
    }

    /// <summary>The servers with a UDP echo beside their TCP listener (<see cref="UdpEcho"/>): not the
    /// Reactor's nor the queue-driven one. An external server is given the benefit of the doubt.</summary>
    public static bool ServesUdp(ServerSpec server) =>
        server.Kind is ServerKind.Sockets or ServerKind.Blocking or ServerKind.External ||
        (server.Kind == ServerKind.Proactor && server.Dispatch != CompletionDispatch.Queue);

    /// <summary>The servers with a Unix listener beside their TCP one (<see cref="UnixEcho"/>).</summary>
    public static bool ServesUnix(ServerSpec server) =>
        server.Kind == ServerKind.Sockets || (server.Kind == ServerKind.Proactor && server.Dispatch != CompletionDispatch.Queue);

    public static ComparePlan Create(CompareOptions options, ServerCatalog.Catalog catalog, long? descriptorLimit)
    {
        List<ServerSpec> servers = SelectServers(options, catalog);
        List<Workload> workloads = SelectWorkloads(options);

        TimeSpan warmup = options.Warmup ?? options.Profile switch
        {
            // Long enough for tiered compilation to replace the library's first (unoptimized) code
            // under load on one pinned core: the runtime's own sockets ship precompiled, so a short
            // warm-up measures Proactor's tier-0 code against their optimized code.
            RunProfile.Quick => TimeSpan.FromSeconds(0.6),
            RunProfile.Full => TimeSpan.FromSeconds(2),
            _ => TimeSpan.FromSeconds(1.5),
        };

        var plan = new ComparePlan
        {
            Servers = servers,
            Workloads = workloads,
            Unavailable = catalog.Unavailable,
            Duration = TimeSpan.Zero,
            Warmup = warmup,
            MaxExtraWarmup = options.JitWarmup ?? TimeSpan.Zero,
            Rounds = options.Rounds ?? DefaultRounds,
            Drain = TimeSpan.FromSeconds(options.Profile == RunProfile.Quick ? 1 : 2),
            DescriptorLimit = descriptorLimit,
        };

        TimeSpan duration = options.Duration ?? options.Profile switch
        {
            RunProfile.Quick => TimeSpan.FromSeconds(0.8),
            RunProfile.Full => TimeSpan.FromSeconds(5),
            _ => FitToBudget(plan, warmup),
        };

        return new ComparePlan
        {
            Servers = plan.Servers,
            Workloads = plan.Workloads,
            Unavailable = plan.Unavailable,
            Duration = duration,
            Warmup = plan.Warmup,
            MaxExtraWarmup = plan.MaxExtraWarmup,
            Rounds = plan.Rounds,
            Drain = plan.Drain,
            DescriptorLimit = plan.DescriptorLimit,
        };
    }

    /// <summary>Spreads <see cref="DefaultBudget"/> over the cells and rounds: about 0.7 s to start
    /// each server process, its warm-up pass, 0.3 s of set-up per cell (plus connecting the idle
    /// ones), the rest measured.</summary>
    private static TimeSpan FitToBudget(ComparePlan plan, TimeSpan warmup)
    {
        int cells = Math.Max(1, plan.CellCount * plan.Rounds);
        double overhead = plan.Rounds * (plan.Servers.Count * 0.7 +
                          plan.Servers.Sum(s => plan.WarmupWorkloadsOf(s).Count() * (warmup.TotalSeconds + 0.3)) +
                          plan.Servers.Sum(s => plan.WorkloadsOf(s).Sum(w => 0.3 + w.Idle / 8000.0)));
        double perCell = (DefaultBudget.TotalSeconds - overhead) / cells;
        return TimeSpan.FromSeconds(Math.Round(Math.Clamp(perCell, 0.5, 3.0), 2));
    }

    private static List<ServerSpec> SelectServers(CompareOptions options, ServerCatalog.Catalog catalog)
    {
        var all = catalog.Servers.Concat(options.Externals).ToList();
        List<ServerSpec> chosen;
        if (options.Servers is { } names)
        {
            chosen = [];
            foreach (string name in names)
            {
                ServerSpec? spec = name.Equals("default", StringComparison.OrdinalIgnoreCase)
                    ? catalog.DefaultBackend
                    : all.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
                if (spec is null)
                {
                    ServerCatalog.Unavailable? missing = catalog.Unavailable.FirstOrDefault(u =>
                        Normalize(u.Name) == Normalize(name) || Normalize(u.Name) == Normalize(name.Split('/')[0]));
                    throw missing is not null
                        ? new UsageException($"compare: server '{name}' is not available on this machine: {missing.Reason}")
                        : new UsageException($"compare: unknown server '{name}'; available here: {string.Join(", ", all.Select(s => s.Name))}.");
                }

                if (!chosen.Contains(spec))
                {
                    chosen.Add(spec);
                }
            }
        }
        else if (options.Profile == RunProfile.Quick)
        {
            chosen = [.. new[] { catalog.DefaultBackend }.OfType<ServerSpec>(), ServerCatalog.Sockets, .. options.Externals];
        }
        else
        {
            chosen = options.Profile == RunProfile.Full ? all : all.Where(s => !s.FullProfileOnly).ToList();
        }

        // The baseline first, so every later row can be read against it.
        return [.. chosen.Where(s => s.IsBaseline), .. chosen.Where(s => !s.IsBaseline)];
    }

    private static List<Workload> SelectWorkloads(CompareOptions options)
    {
        IReadOnlyList<int> idle = options.IdleCounts ?? WorkloadCatalog.DefaultIdleCounts;
        if (options.HasCustomWorkload)
        {
            return [WorkloadCatalog.Custom(options.Connections ?? 64, options.MessageSize ?? 64, options.InFlight ?? 1)];
        }

        List<Workload> profile = WorkloadCatalog.For(options.Profile, idle);
        if (options.Profile == RunProfile.Quick && options.IdleCounts is not null)
        {
            profile.AddRange(idle.Select(n => WorkloadCatalog.Idle(n)));
        }

        if (options.Workloads is not { } names)
        {
            return profile;
        }

        var known = profile.Concat(WorkloadCatalog.For(RunProfile.Full, idle)).DistinctBy(w => w.Name).ToList();
        var chosen = new List<Workload>();
        foreach (string name in names)
        {
            Workload w = known.FirstOrDefault(w => w.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                ?? WorkloadCatalog.TryParse(name)
                ?? throw new UsageException($"compare: unknown workload '{name}'; known: {string.Join(", ", known.Select(k => k.Name))}, or by their parameters: pingpong-8, pingpong-16KiB-16, pingpong-64x16 (in flight), idle-15000.");
            if (!chosen.Contains(w))
            {
                chosen.Add(w);
            }
        }

        return chosen;
    }

    private static string Normalize(string s) =>
        new string(s.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant();
}
