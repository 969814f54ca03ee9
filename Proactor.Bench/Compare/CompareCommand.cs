using System;
using System.Collections.Generic;
using System.Diagnostics;

using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Cli;
using Proactor.Bench.Load;
using Proactor.Bench.Os;
using Proactor.Bench.Reports;
using Proactor.Bench.Servers;
using Spectre.Console;

namespace Proactor.Bench.Compare;

/// <summary>
/// <c>compare</c>: every server against the same load generator, in interleaved rounds (each round
/// starts every server's process afresh, gives it the same discarded warm-up pass, then measures
/// each workload once on every server, back to back), with live progress, a table of medians and
/// spreads at the end and a results folder (report.md, results.json, charts).
/// </summary>
internal static class CompareCommand
{
    public static async Task<ComparisonReport> RunAsync(CompareOptions options, IAnsiConsole console, string commandLine, CancellationToken cancellationToken = default)
    {
        long? descriptorLimit = DescriptorLimit.Raise();
        (int[] Server, int[] Load)? cpus = options.Pin ? CpuAffinity.Split() : null;
        ServerCatalog.Catalog catalog = ServerCatalog.Discover(groupLoops: Math.Max(2, cpus?.Server.Length ?? Environment.ProcessorCount));
        ComparePlan plan = ComparePlan.Create(options, catalog, descriptorLimit);
        int loadLoops = options.LoadLoops ?? Math.Max(1, cpus?.Load.Length ?? Environment.ProcessorCount);
        string loadBackend = options.LoadBackend ?? LoadGenerator.DefaultBackend;

        // Before anything of ours runs: a build's compiler server or another job still busy would
        // slow whichever server is measured first, the baseline included.
        IdleCheck.Result? idle = await IdleCheck.MeasureUntilIdleAsync(
            TimeSpan.FromSeconds(options.Profile == RunProfile.Quick ? 0.5 : 1), options.IdleWait, cancellationToken);

        DateTimeOffset started = DateTimeOffset.Now;
        var stopwatch = Stopwatch.StartNew();
        var report = new ComparisonReport
        {
            StartedAt = started.ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture),
            Command = commandLine,
            Profile = options.Profile.ToString().ToLowerInvariant(),
            DurationSeconds = plan.Duration.TotalSeconds,
            WarmupSeconds = plan.Warmup.TotalSeconds,
            MaxExtraWarmupSeconds = plan.MaxExtraWarmup.TotalSeconds,
            Tiering = SelfLauncher.TieringNote,
            Rounds = plan.Rounds,
            IdleCheck = idle?.Describe(),
            MachineBusy = idle is { IsIdle: false },
            Machine = DescribeMachine(cpus, descriptorLimit, options.Pin, loadLoops, loadBackend),
            Servers = plan.Servers.Select(s => new ServerInfo(s.Name, s.Kind.ToString().ToLowerInvariant(), s.Description)).ToList(),
            Unavailable = plan.Unavailable.Select(u => new UnavailableInfo(u.Name, u.Reason)).ToList(),
            Workloads = plan.Workloads.ToList(),
        };

        console.MarkupLine(
            $"[bold]Proactor comparison[/] ({report.Profile}): {plan.Servers.Count} servers, {plan.Workloads.Count} workloads, " +
            $"{plan.Rounds} interleaved rounds of {plan.CellCount} measurements of {plan.Duration.TotalSeconds:0.##} s " +
            $"(each workload on every server back to back; each round's fresh server processes first run each workload {plan.Warmup.TotalSeconds:0.##} s, discarded{(plan.MaxExtraWarmup > TimeSpan.Zero ? $", then more while its JIT compiler is busy, up to {plan.MaxExtraWarmup.TotalSeconds:0.##} s" : "")}; {Markup.Escape(report.Tiering)}); " +
            $"server {Markup.Escape(report.Machine.ServerCpus)}, load generator {Markup.Escape(report.Machine.LoadGeneratorCpus)} ({loadLoops} {Markup.Escape(loadBackend)} loop{(loadLoops == 1 ? "" : "s")})");
        if (report.IdleCheck is { } idleLine)
        {
            console.MarkupLine(report.MachineBusy ? $"[yellow]{Markup.Escape(idleLine)}[/]" : $"[grey]{Markup.Escape(idleLine)}[/]");
        }

        foreach (UnavailableInfo u in report.Unavailable)
        {
            console.MarkupLine($"[grey]not available here: {Markup.Escape(u.Name)} ({Markup.Escape(u.Reason)})[/]");
        }

        // One cell per server and workload, in the table's order; the rounds fill them.
        var cells = new Dictionary<(ServerSpec, string), Measurement>();
        foreach (Workload workload in plan.Workloads)
        {
            foreach (ServerSpec server in plan.Servers.Where(s => plan.WorkloadsOf(s).Contains(workload)))
            {
                var m = new Measurement { Server = server.Name, Workload = workload.Name, Status = Measurement.Ok };
                if (plan.SkipReason(server, workload) is { } skip)
                {
                    m.Status = Measurement.Skipped;
                    m.Reason = skip;
                }

                cells[(server, workload.Name)] = m;
                report.Results.Add(m);
            }
        }

        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var tasks = plan.Servers.ToDictionary(
                    s => s,
                    s => context.AddTask(Describe(s.Name, "waiting"), autoStart: false, maxValue: Math.Max(1, plan.WorkloadsOf(s).Count() * plan.Rounds)));
                LoadProcess? load = null;
                try
                {
                    for (int round = 0; round < plan.Rounds; round++)
                    {
                        load = await RunRoundAsync(round, plan, cpus, load, loadLoops, loadBackend, cells, report.Warmups, tasks, cancellationToken);
                    }

                    foreach ((ServerSpec server, ProgressTask task) in tasks)
                    {
                        task.Description = Describe(server.Name, Summary(report.Results.Where(r => r.Server == server.Name)));
                        task.Value = task.MaxValue;
                        task.StopTask();
                    }
                }
                finally
                {
                    if (load is not null)
                    {
                        await load.DisposeAsync();
                    }
                }
            });

        foreach (Measurement m in report.Results)
        {
            m.Summarize();
        }

        Ratios.Compute(report.Results);
        report.ElapsedSeconds = Math.Round(stopwatch.Elapsed.TotalSeconds, 1);

        console.Write(ResultTable.Build(report));
        if (report.JitNote() is { } jitNote)
        {
            console.MarkupLine($"[grey]{Markup.Escape(jitNote)}[/]");
        }

        string folder = ReportWriter.Write(report, options.OutputRoot, started);
        console.MarkupLine($"Results: [link]{Markup.Escape(folder)}[/] (report.md, results.json, charts) in {report.ElapsedSeconds:0.#} s");
        return report;
    }

    /// <summary>One round: every server's process started afresh and given its warm-up pass
    /// (discarded), then each workload measured on every server back to back
    /// (<see cref="RoundSchedule.Cells"/>); the processes stay up, idle, until the round ends.
    /// Returns the load generator to use next (a fresh one if this one stopped answering).</summary>
    private static async Task<LoadProcess> RunRoundAsync(
        int round, ComparePlan plan, (int[] Server, int[] Load)? cpus, LoadProcess? load, int loadLoops, string loadBackend,
        Dictionary<(ServerSpec, string), Measurement> cells, List<WarmupInfo> warmups, Dictionary<ServerSpec, ProgressTask> tasks,
        CancellationToken cancellationToken)
    {
        var live = new Dictionary<ServerSpec, ServerProcess>();
        try
        {
            foreach (ServerSpec server in plan.Servers)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ProgressTask task = tasks[server];
                task.StartTask();
                load ??= LoadProcess.Start(cpus?.Load, loadLoops, loadBackend);
                ServerProcess? process;
                (process, load) = await StartAndWarmUpAsync(server, round, plan, cpus, load, cells, warmups, task, cancellationToken);
                if (process is not null)
                {
                    live[server] = process;
                }
            }

            load ??= LoadProcess.Start(cpus?.Load, loadLoops, loadBackend);
            foreach ((Workload workload, ServerSpec server) in RoundSchedule.Cells(
                         plan.Servers, plan.Workloads, (s, w) => live.ContainsKey(s) && plan.WorkloadsOf(s).Contains(w)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                load = await MeasureCellAsync(server, live[server], workload, round, plan, load, cells[(server, workload.Name)], tasks[server]);
            }
        }
        finally
        {
            foreach (ServerProcess process in live.Values)
            {
                await process.DisposeAsync();
            }
        }

        return load;
    }

    /// <summary>A fresh process of <paramref name="server"/> and its warm-up pass; null (and every
    /// cell of the round failed) when it does not start.</summary>
    private static async Task<(ServerProcess? Process, LoadProcess Load)> StartAndWarmUpAsync(
        ServerSpec server, int round, ComparePlan plan, (int[] Server, int[] Load)? cpus, LoadProcess load,
        Dictionary<(ServerSpec, string), Measurement> cells, List<WarmupInfo> warmups, ProgressTask task, CancellationToken cancellationToken)
    {
        ServerProcess process;
        try
        {
            task.Description = Describe(server.Name, $"round {round + 1}: starting");
            process = await ServerProcess.StartAsync(server, cpus?.Server, TimeSpan.FromSeconds(15));
        }
        catch (Exception e)
        {
            foreach (Workload w in plan.WorkloadsOf(server))
            {
                cells[(server, w.Name)].Add(round, new LoadResult { Fatal = "server did not start: " + OneLine(e.Message) });
                task.Increment(1);
            }

            return (null, load);
        }

        try
        {
            if (plan.Warmup > TimeSpan.Zero)
            {
                WarmupInfo warmup;
                (warmup, load) = await WarmUpAsync(process, server, round, plan, load, task, cancellationToken);
                warmups.Add(warmup);
            }

            task.Description = Describe(server.Name, $"round {round + 1}: warm, waiting for its turn");
            return (process, load);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>One measurement of one cell in <paramref name="round"/>.</summary>
    private static async Task<LoadProcess> MeasureCellAsync(
        ServerSpec server, ServerProcess process, Workload workload, int round, ComparePlan plan, LoadProcess load,
        Measurement cell, ProgressTask task)
    {
        if (cell.Status == Measurement.Skipped)
        {
            task.Increment(1);
            return load;
        }

        task.Description = Describe(server.Name, $"round {round + 1}: {workload.Name}");
        LoadResult result;
        double? jitShare = null;
        if (process.HasExited)
        {
            await Task.Delay(100, CancellationToken.None);
            result = new LoadResult { Fatal = $"the server process exited. {process.StderrTail}".Trim() };
        }
        else
        {
            JitRun run;
            (result, load, run) = await MeasureWatchingJitAsync(process, workload, plan.Duration, ComparePlan.Settle, plan, load);
            jitShare = run.Share;

            if (process.HasExited && result.Fatal is null)
            {
                await Task.Delay(100, CancellationToken.None);
                result.Fatal = $"the server process exited during the measurement. {process.StderrTail}".Trim();
            }
        }

        cell.Add(round, result, jitShare);
        task.Increment(1);
        task.Description = Describe(server.Name, $"round {round + 1}: waiting for its turn");
        return load;
    }

    /// <summary>
    /// The discarded warm-up of a fresh server process: each of its workloads once, for
    /// <see cref="ComparePlan.Warmup"/>; then each workload during whose last run the server's JIT
    /// compiler spent more than <see cref="ComparePlan.QuietJitShare"/> of the time compiling runs
    /// again, until none does or <see cref="ComparePlan.MaxExtraWarmup"/> has passed.
    /// </summary>
    /// <remarks>
    /// A .NET server pinned to one core compiles for seconds under load: System.Net.Sockets'
    /// echo server spent 0.9 s of its first 2.5 s in the JIT compiler at 64 connections (its code
    /// is precompiled, but not for the tier the runtime settles on) and ran at 38 k round trips/s
    /// meanwhile, 50-55 k after. What the compiler did in each warm-up run and each measured run
    /// goes into the report, so a reader sees whether the measured runs were past that phase. A
    /// workload's own code settles only while that workload runs, so each busy workload runs again
    /// rather than any one of them. External servers have no JIT compiler to ask: they get the
    /// pass only.
    /// </remarks>
    private static async Task<(WarmupInfo Warmup, LoadProcess Load)> WarmUpAsync(
        ServerProcess process, ServerSpec server, int round, ComparePlan plan, LoadProcess load,
        ProgressTask task, CancellationToken cancellationToken)
    {
        var info = new WarmupInfo { Server = server.Name, Round = round + 1 };
        List<Workload> pending = plan.WarmupWorkloadsOf(server).ToList();
        TimeSpan extra = TimeSpan.Zero;
        for (bool pass = true; pending.Count > 0 && !process.HasExited && (pass || extra < plan.MaxExtraWarmup); pass = false)
        {
            var busy = new List<Workload>();
            for (int i = 0; i < pending.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Workload workload = pending[i];
                if (process.HasExited || (!pass && extra >= plan.MaxExtraWarmup))
                {
                    busy.AddRange(pending.Skip(i)); // not run again: as busy as they were
                    break;
                }

                task.Description = Describe(server.Name, $"round {round + 1}: warm-up {workload.Name}" + (pass ? "" : " (its JIT compiler was busy)"));
                JitRun run;
                (_, load, run) = await MeasureWatchingJitAsync(process, workload, plan.Warmup, TimeSpan.Zero, plan, load);
                extra += pass ? TimeSpan.Zero : run.Elapsed;
                if (run.Share is { } share)
                {
                    info.Runs.Add(new WarmupRun(workload.Name, Math.Round(run.Elapsed.TotalSeconds, 2), share, run.Methods));
                    if (share > ComparePlan.QuietJitShare)
                    {
                        busy.Add(workload);
                    }
                }
            }

            pending = busy;
        }

        info.ExtraSeconds = Math.Round(extra.TotalSeconds, 2);
        info.StillBusy = pending.Select(w => w.Name).ToList();
        return (info, load);
    }

    private static readonly TimeSpan JitReplyTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long a run took and what the server's JIT compiler did meanwhile: its share of
    /// the time and the methods it compiled (null when the server has none to ask).</summary>
    private readonly record struct JitRun(TimeSpan Elapsed, double? Share, long Methods);

    /// <summary><see cref="MeasureAsync"/>, with the server's JIT compiler asked before and after.</summary>
    private static async Task<(LoadResult Result, LoadProcess Load, JitRun Jit)> MeasureWatchingJitAsync(
        ServerProcess process, Workload workload, TimeSpan duration, TimeSpan settle, ComparePlan plan, LoadProcess load)
    {
        JitSample? before = await process.JitAsync(JitReplyTimeout);
        long started = Stopwatch.GetTimestamp();
        (LoadResult result, load) = await MeasureAsync(process, workload, duration, settle, plan, load);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        JitRun run = before is { } from && !process.HasExited && await process.JitAsync(JitReplyTimeout) is { } to
            ? new JitRun(elapsed, Math.Round((to.CompilationTime - from.CompilationTime) / elapsed, 4), to.Methods - from.Methods)
            : new JitRun(elapsed, null, 0);
        return (result, load, run);
    }

    private static async Task<(LoadResult Result, LoadProcess Load)> MeasureAsync(
        ServerProcess process, Workload workload, TimeSpan duration, TimeSpan settle, ComparePlan plan, LoadProcess load)
    {
        var request = new LoadRequest
        {
            Port = process.Port,
            Mode = workload.Mode,
            Connections = workload.Connections,
            MessageSize = workload.MessageSize,
            InFlight = workload.InFlight,
            Idle = workload.Idle,
            WarmupSeconds = settle.TotalSeconds,
            DurationSeconds = duration.TotalSeconds,
            DrainSeconds = plan.Drain.TotalSeconds,
            ServerPid = process.Pid,
        };
        TimeSpan timeout = settle + duration + plan.Drain + TimeSpan.FromSeconds(45 + workload.ServerConnections / 500.0);
        try
        {
            return (await load.RunAsync(request, timeout), load);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            await load.DisposeAsync();
            return (new LoadResult { Fatal = OneLine(e.Message) }, load.StartAnother());
        }
    }

    private static string Describe(string server, string what) =>
        $"{Markup.Escape(server),-18} [grey]{Markup.Escape(what)}[/]";

    private static string Summary(IEnumerable<Measurement> results)
    {
        var list = results.ToList();
        int ok = list.Count(r => r.Status == Measurement.Ok);
        string s = $"done: {ok}/{list.Count} ok";
        int bad = list.Count(r => r.Status is Measurement.Failed or Measurement.WithErrors);
        return bad > 0 ? s + $", {bad} with errors" : s;
    }

    private static string OneLine(string text) =>
        text.ReplaceLineEndings(" ").Trim();

    private static MachineInfo DescribeMachine((int[] Server, int[] Load)? cpus, long? descriptorLimit, bool pin, int loadLoops, string loadBackend)
    {
        var machine = new MachineInfo
        {
            Os = RuntimeInformation.OSDescription,
            Runtime = RuntimeInformation.FrameworkDescription,
            ProcessorCount = Environment.ProcessorCount,
            ServerCpus = CpuAffinity.Describe(cpus?.Server),
            LoadGeneratorCpus = CpuAffinity.Describe(cpus?.Load),
            DescriptorLimit = descriptorLimit,
            LoadGeneratorLoops = loadLoops,
            LoadGeneratorBackend = loadBackend,
        };
        if (cpus is null)
        {
            machine.Notes.Add(pin
                ? "Server and load generator are not pinned: fewer than two CPUs, or no CPU affinity on this OS."
                : "Pinning was turned off (--no-pin).");
        }

        if (!OperatingSystem.IsLinux())
        {
            machine.Notes.Add("Not Linux: server CPU time comes from the OS process API where it answers, else it is left out.");
        }

        return machine;
    }
}
