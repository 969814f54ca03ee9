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
/// <c>compare</c>: every server against the same load generator, one server process at a time,
/// with live progress, a table at the end and a results folder (report.md, results.json, charts).
/// </summary>
internal static class CompareCommand
{
    public static async Task<ComparisonReport> RunAsync(CompareOptions options, IAnsiConsole console, string commandLine, CancellationToken cancellationToken = default)
    {
        long? descriptorLimit = DescriptorLimit.Raise();
        (int[] Server, int[] Load)? cpus = options.Pin ? CpuAffinity.Split() : null;
        ServerCatalog.Catalog catalog = ServerCatalog.Discover(groupLoops: Math.Max(2, cpus?.Server.Length ?? Environment.ProcessorCount));
        ComparePlan plan = ComparePlan.Create(options, catalog, descriptorLimit);

        DateTimeOffset started = DateTimeOffset.Now;
        var stopwatch = Stopwatch.StartNew();
        var report = new ComparisonReport
        {
            StartedAt = started.ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture),
            Command = commandLine,
            Profile = options.Profile.ToString().ToLowerInvariant(),
            DurationSeconds = plan.Duration.TotalSeconds,
            WarmupSeconds = plan.Warmup.TotalSeconds,
            Machine = DescribeMachine(cpus, descriptorLimit, options.Pin),
            Servers = plan.Servers.Select(s => new ServerInfo(s.Name, s.Kind.ToString().ToLowerInvariant(), s.Description)).ToList(),
            Unavailable = plan.Unavailable.Select(u => new UnavailableInfo(u.Name, u.Reason)).ToList(),
            Workloads = plan.Workloads.ToList(),
        };

        console.MarkupLine(
            $"[bold]Proactor comparison[/] ({report.Profile}): {plan.Servers.Count} servers, {plan.Workloads.Count} workloads, " +
            $"{plan.CellCount} measurements of {plan.Duration.TotalSeconds:0.##} s (+{plan.Warmup.TotalSeconds:0.##} s warm-up); " +
            $"server {Markup.Escape(report.Machine.ServerCpus)}, load generator {Markup.Escape(report.Machine.LoadGeneratorCpus)}");
        foreach (UnavailableInfo u in report.Unavailable)
        {
            console.MarkupLine($"[grey]not available here: {Markup.Escape(u.Name)} ({Markup.Escape(u.Reason)})[/]");
        }

        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var tasks = plan.Servers.ToDictionary(s => s, s => context.AddTask(Describe(s.Name, "waiting"), autoStart: false, maxValue: Math.Max(1, plan.WorkloadsOf(s).Count())));
                LoadProcess? load = null;
                try
                {
                    foreach (ServerSpec server in plan.Servers)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        ProgressTask task = tasks[server];
                        task.StartTask();
                        load ??= LoadProcess.Start(cpus?.Load);
                        load = await RunServerAsync(server, plan, cpus, load, report.Results, task, cancellationToken);
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

        Ratios.Compute(report.Results);
        report.ElapsedSeconds = Math.Round(stopwatch.Elapsed.TotalSeconds, 1);

        console.Write(ResultTable.Build(report));
        string folder = ReportWriter.Write(report, options.OutputRoot, started);
        console.MarkupLine($"Results: [link]{Markup.Escape(folder)}[/] (report.md, results.json, charts) in {report.ElapsedSeconds:0.#} s");
        return report;
    }

    /// <summary>Runs every workload of one server; returns the load generator to use next (a
    /// fresh one if this one stopped answering).</summary>
    private static async Task<LoadProcess> RunServerAsync(
        ServerSpec server, ComparePlan plan, (int[] Server, int[] Load)? cpus, LoadProcess load,
        List<Measurement> results, ProgressTask task, CancellationToken cancellationToken)
    {
        ServerProcess? process = null;
        try
        {
            foreach (Workload workload in plan.WorkloadsOf(server))
            {
                cancellationToken.ThrowIfCancellationRequested();
                task.Description = Describe(server.Name, workload.Name);
                var measurement = new Measurement { Server = server.Name, Workload = workload.Name, Status = Measurement.Ok };
                results.Add(measurement);

                if (plan.SkipReason(server, workload) is { } skip)
                {
                    measurement.Status = Measurement.Skipped;
                    measurement.Reason = skip;
                    task.Increment(1);
                    continue;
                }

                try
                {
                    if (process is null || process.HasExited)
                    {
                        if (process is not null)
                        {
                            await process.DisposeAsync();
                        }

                        process = await ServerProcess.StartAsync(server, cpus?.Server, TimeSpan.FromSeconds(15));
                    }
                }
                catch (Exception e)
                {
                    measurement.Status = Measurement.Failed;
                    measurement.Reason = "server did not start: " + OneLine(e.Message);
                    process = null;
                    task.Increment(1);
                    continue;
                }

                var request = new LoadRequest
                {
                    Port = process.Port,
                    Mode = workload.Mode,
                    Connections = workload.Connections,
                    MessageSize = workload.MessageSize,
                    InFlight = workload.InFlight,
                    Idle = workload.Idle,
                    WarmupSeconds = plan.Warmup.TotalSeconds,
                    DurationSeconds = plan.Duration.TotalSeconds,
                    DrainSeconds = plan.Drain.TotalSeconds,
                    ServerPid = process.Pid,
                };
                TimeSpan timeout = plan.Warmup + plan.Duration + plan.Drain + TimeSpan.FromSeconds(45 + workload.ServerConnections / 500.0);
                try
                {
                    LoadResult result = await load.RunAsync(request, timeout);
                    measurement.Result = result;
                    if (result.Fatal is not null)
                    {
                        measurement.Status = Measurement.Failed;
                        measurement.Reason = OneLine(result.Fatal);
                    }
                    else if (result.Errors > 0)
                    {
                        measurement.Status = Measurement.WithErrors;
                        measurement.Reason = $"{result.Errors} error(s): {OneLine(result.ErrorSamples.FirstOrDefault() ?? "")}";
                    }
                }
                catch (Exception e) when (e is TimeoutException or InvalidOperationException)
                {
                    measurement.Status = Measurement.Failed;
                    measurement.Reason = OneLine(e.Message);
                    await load.DisposeAsync();
                    load = LoadProcess.Start(cpus?.Load);
                }

                if (process.HasExited)
                {
                    await Task.Delay(100, CancellationToken.None);
                    measurement.Status = Measurement.Failed;
                    measurement.Reason = $"the server process exited during the measurement. {process.StderrTail}".Trim();
                }

                task.Increment(1);
            }
        }
        finally
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }

        return load;
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

    private static MachineInfo DescribeMachine((int[] Server, int[] Load)? cpus, long? descriptorLimit, bool pin)
    {
        var machine = new MachineInfo
        {
            Os = RuntimeInformation.OSDescription,
            Runtime = RuntimeInformation.FrameworkDescription,
            ProcessorCount = Environment.ProcessorCount,
            ServerCpus = CpuAffinity.Describe(cpus?.Server),
            LoadGeneratorCpus = CpuAffinity.Describe(cpus?.Load),
            DescriptorLimit = descriptorLimit,
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
