using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Cli;
using Proactor.Bench.Compare;
using Proactor.Bench.Os;
using Spectre.Console;

namespace Proactor.Bench.Http;

/// <summary>
/// <c>http</c>: Kestrel on its Sockets transport versus Kestrel on Proactor, driven by wrk on
/// TechEmpower's plaintext (with and without pipelining) and JSON endpoints. Every server runs as
/// its own process pinned to the server's CPUs, wrk to the others; rounds are interleaved as the
/// comparison runner's (<see cref="RoundSchedule"/>), and the table gives each figure as the median
/// of the rounds with their min–max, ratios against Sockets taken round by round (<see cref="HttpReport"/>).
/// </summary>
internal static class HttpCommand
{
    public static async Task<int> RunAsync(HttpSettings settings, IAnsiConsole console, CancellationToken cancellationToken)
    {
        int rounds = settings.RoundsValue, connections = settings.ConnectionsValue, pipeline = settings.PipelineValue;
        TimeSpan duration = settings.DurationValue, warmup = settings.WarmupValue, settle = settings.SettleValue;
        IReadOnlyList<HttpServerConfig> servers = settings.ServersValue;
        IReadOnlyList<HttpWorkload> workloads = settings.WorkloadsValue;

        // Checked before any server starts: the user learns at once what to install.
        string wrk = Wrk.Locate(settings.Wrk) ?? throw new InvalidOperationException(Wrk.InstallHint);
        (int[] Server, int[] Load)? split = settings.NoPin ? null : CpuAffinity.Split();
        string script = Path.Combine(Path.GetTempPath(), $"proactor-wrk-pipeline-{Environment.ProcessId}.lua");
        await File.WriteAllTextAsync(script, Wrk.PipelineScript, cancellationToken);
        string setup = $"wrk: {wrk}; server {CpuAffinity.Describe(split?.Server)}, wrk {CpuAffinity.Describe(split?.Load)}; " +
            $"{rounds} interleaved rounds x {duration.TotalSeconds:0.#} s (+{warmup.TotalSeconds:0.#} s warm-up each, {settle.TotalSeconds:0.#} s settling per server first), {connections} connections, pipeline depth {pipeline}; " +
            $"servers run with {SelfLauncher.TieringNote}";
        console.WriteLine(setup);

        var running = new List<(HttpServerConfig Config, Process Process, int Port)>();
        var samples = workloads.ToDictionary(w => w.Name, _ => new Dictionary<string, List<HttpSample>>());
        try
        {
            foreach (HttpServerConfig config in servers)
            {
                running.Add(await StartServerAsync(config, split?.Server, cancellationToken));
            }

            // Every server reaches its steady code before round 1 (see SelfLauncher.SteadyTiering:
            // about 6 s of load for Kestrel on one processor), so round 1 is not the slow one.
            if (settle > TimeSpan.Zero)
            {
                TimeSpan each = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(settle.TotalSeconds / workloads.Count)));
                foreach (var (config, _, port) in running)
                {
                    console.WriteLine($"settling {config.Name} ({each.TotalSeconds:0} s per workload)");
                    foreach (HttpWorkload workload in workloads)
                    {
                        var url = new Uri($"http://127.0.0.1:{port}{workload.Path}");
                        await Wrk.RunAsync(wrk, url, connections, each, workload.Pipelined ? script : null, pipeline, split?.Load, cancellationToken);
                    }
                }
            }

            foreach ((int round, var (config, process, port)) in RoundSchedule.Order(running, rounds))
            {
                foreach (HttpWorkload workload in workloads)
                {
                    var url = new Uri($"http://127.0.0.1:{port}{workload.Path}");
                    string? useScript = workload.Pipelined ? script : null;
                    if (warmup > TimeSpan.Zero)
                    {
                        await Wrk.RunAsync(wrk, url, connections, warmup, useScript, pipeline, split?.Load, cancellationToken);
                    }

                    TimeSpan? cpuBefore = ProcessCpuTime.Read(process.Id);
                    WrkResult result = await Wrk.RunAsync(wrk, url, connections, duration, useScript, pipeline, split?.Load, cancellationToken);
                    TimeSpan? cpuAfter = ProcessCpuTime.Read(process.Id);
                    double? cpuPerRequest = cpuBefore is { } b && cpuAfter is { } a && result.Requests > 0
                        ? (a - b).TotalMicroseconds / result.Requests
                        : null;
                    if (result.Errors > 0 || result.Non2xx > 0)
                    {
                        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warning: {config.Name} {workload.Name}: {result.Errors} socket errors, {result.Non2xx} non-2xx responses"));
                    }

                    string cpuText = cpuPerRequest is { } c ? string.Create(CultureInfo.InvariantCulture, $"{c,7:F2} µs CPU/req") : "CPU n/a";
                    console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"round {round + 1} {workload.Name,-10} {config.Name,-22} {result.RequestsPerSecond,12:F0} req/s  p99 {(result.P99Milliseconds > 0 ? $"{result.P99Milliseconds,8:F2} ms" : "     n/a   ")}  {cpuText}"));
                    Dictionary<string, List<HttpSample>> cell = samples[workload.Name];
                    if (!cell.TryGetValue(config.Name, out List<HttpSample>? list))
                    {
                        cell[config.Name] = list = [];
                    }

                    list.Add(new HttpSample(round, result, cpuPerRequest));
                }
            }
        }
        finally
        {
            foreach (var (_, process, _) in running)
            {
                await StopServerAsync(process);
            }

            File.Delete(script);
        }

        var report = new StringBuilder();
        report.AppendLine("# Kestrel: Sockets vs Proactor under wrk");
        report.AppendLine();
        report.AppendLine(setup + ".");
        report.AppendLine("Each figure: the median of the rounds (min–max). Ratios: the median of the per-round ratios against sockets in the same round; " +
            "≈: the rounds disagree which side of 1.0 the ratio is on.");
        foreach (HttpWorkload workload in workloads)
        {
            List<HttpRow> rows = HttpReport.Rows(servers.Select(s => s.Name), samples[workload.Name]);
            var table = new Table().Title(Markup.Escape($"{workload.Name} ({workload.Path}{(workload.Pipelined ? $", pipelined x{pipeline}" : "")})"));
            table.AddColumns(HttpReport.Columns.Select(Markup.Escape).ToArray());
            foreach (HttpRow row in rows)
            {
                table.AddRow(row.Cells().Select(Markup.Escape).ToArray());
            }

            console.Write(table);
            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture, $"## {workload.Name}");
            report.AppendLine();
            report.Append(HttpReport.Markdown(rows));
        }

        Directory.CreateDirectory(settings.Out);
        string file = Path.Combine(settings.Out, $"http-{DateTime.UtcNow:yyyyMMdd-HHmmss}.md");
        await File.WriteAllTextAsync(file, report.ToString(), cancellationToken);
        console.WriteLine("report: " + file);
        return 0;
    }

    private static async Task<(HttpServerConfig, Process, int)> StartServerAsync(HttpServerConfig config, int[]? cpus, CancellationToken cancellationToken)
    {
        ProcessStartInfo info = SelfLauncher.Create(config.ServeArguments());
        Process process = CpuAffinity.Start(info, cpus);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            while (true)
            {
                string? line = await process.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null)
                {
                    string error = await process.StandardError.ReadToEndAsync(cancellationToken);
                    throw new InvalidOperationException($"the {config.Name} server exited before listening: {error.Trim()}");
                }

                if (line.StartsWith(HttpServeCommand.ListeningPrefix, StringComparison.Ordinal))
                {
                    int port = int.Parse(line[HttpServeCommand.ListeningPrefix.Length..].Split(' ')[0], CultureInfo.InvariantCulture);
                    _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                    _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
                    return (config, process, port);
                }
            }
        }
        catch
        {
            await StopServerAsync(process);
            throw;
        }
    }

    private static async Task StopServerAsync(Process process)
    {
        try
        {
            process.StandardInput.Close(); // the server's signal to stop
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(grace.Token);
        }
        catch (Exception)
        {
            process.Kill(entireProcessTree: true);
        }
        finally
        {
            process.Dispose();
        }
    }
}
