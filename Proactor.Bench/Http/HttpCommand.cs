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
using Proactor.Bench.Os;

namespace Proactor.Bench.Http;

/// <summary>
/// <c>http</c>: Kestrel on its Sockets transport versus Kestrel on Proactor, driven by wrk on
/// TechEmpower's plaintext (with and without pipelining) and JSON endpoints. Every server runs as
/// its own process pinned to the server's CPUs, wrk to the others; rounds are interleaved (each
/// round runs every server once per workload, in a rotated order) so drift of a busy machine
/// spreads over all of them, and the report gives the median and the spread of the rounds.
/// </summary>
internal static class HttpCommand
{
    public const string Usage = """
          http [--rounds N] [--duration T] [--warmup T] [--connections N] [--pipeline D]
               [--servers a,b] [--workloads plaintext,pipelined,json] [--wrk PATH] [--no-pin] [--out DIR]
                                                Kestrel on Sockets vs Kestrel on Proactor under wrk
                                                (servers: sockets, proactor, proactor-inline, proactor-epoll-inline)
        """;

    private sealed record Workload(string Name, string Path, bool Pipelined);

    private static readonly Workload[] s_workloads =
    {
        new("plaintext", "/plaintext", false),
        new("pipelined", "/plaintext", true),
        new("json", "/json", false),
    };

    private sealed record Sample(WrkResult Wrk, double? CpuMicrosecondsPerRequest);

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        int rounds = 3, connections = 64, pipeline = 16;
        TimeSpan duration = TimeSpan.FromSeconds(10), warmup = TimeSpan.FromSeconds(3);
        string? wrkPath = null, outDir = "results";
        bool pin = true;
        IReadOnlyList<HttpServerConfig> servers = HttpServerConfig.Catalog;
        IReadOnlyList<Workload> workloads = s_workloads;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--help" or "-h":
                    Console.Out.WriteLine(Usage);
                    return 0;
                case "--rounds": rounds = PositiveInt(Value(), "--rounds"); break;
                case "--duration": duration = Duration(Value(), "--duration"); break;
                case "--warmup": warmup = Duration(Value(), "--warmup"); break;
                case "--connections": connections = PositiveInt(Value(), "--connections"); break;
                case "--pipeline": pipeline = PositiveInt(Value(), "--pipeline"); break;
                case "--wrk": wrkPath = Value(); break;
                case "--out": outDir = Value(); break;
                case "--no-pin": pin = false; break;
                case "--servers":
                    string[] names = Value().Split(',', StringSplitOptions.RemoveEmptyEntries);
                    servers = names.Select(n => HttpServerConfig.Catalog.FirstOrDefault(c => c.Name == n)
                        ?? throw new UsageException($"unknown server '{n}'; servers: {string.Join(", ", HttpServerConfig.Catalog.Select(c => c.Name))}")).ToList();
                    break;
                case "--workloads":
                    string[] wanted = Value().Split(',', StringSplitOptions.RemoveEmptyEntries);
                    workloads = wanted.Select(n => s_workloads.FirstOrDefault(w => w.Name == n)
                        ?? throw new UsageException($"unknown workload '{n}'; workloads: plaintext, pipelined, json")).ToList();
                    break;
                default: throw new UsageException($"unknown option '{args[i]}' for http");
            }
        }

        if (rounds < 3)
        {
            throw new UsageException("--rounds must be at least 3: the report gives a median and a spread.");
        }

        string wrk = Wrk.Locate(wrkPath) ?? throw new InvalidOperationException(Wrk.InstallHint);
        (int[] Server, int[] Load)? split = pin ? CpuAffinity.Split() : null;
        string script = Path.Combine(Path.GetTempPath(), $"proactor-wrk-pipeline-{Environment.ProcessId}.lua");
        await File.WriteAllTextAsync(script, Wrk.PipelineScript, cancellationToken);
        Console.Out.WriteLine($"wrk: {wrk}; server {CpuAffinity.Describe(split?.Server)}, wrk {CpuAffinity.Describe(split?.Load)}; " +
            $"{rounds} rounds x {duration.TotalSeconds:F0}s (+{warmup.TotalSeconds:F0}s warm-up), {connections} connections, pipeline depth {pipeline}");

        var running = new List<(HttpServerConfig Config, Process Process, int Port)>();
        var samples = new Dictionary<(string Server, string Workload), List<Sample>>();
        try
        {
            foreach (HttpServerConfig config in servers)
            {
                running.Add(await StartServerAsync(config, split?.Server, cancellationToken));
            }

            for (int round = 0; round < rounds; round++)
            {
                foreach (Workload workload in workloads)
                {
                    // Rotate the order each round: no server always goes first (or right after another's load).
                    for (int k = 0; k < running.Count; k++)
                    {
                        var (config, process, port) = running[(k + round) % running.Count];
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
                            Console.Error.WriteLine($"warning: {config.Name} {workload.Name}: {result.Errors} socket errors, {result.Non2xx} non-2xx responses");
                        }

                        Console.Out.WriteLine($"round {round + 1} {workload.Name,-10} {config.Name,-22} {result.RequestsPerSecond,12:F0} req/s  p99 {result.P99Milliseconds,8:F2} ms  " +
                            (cpuPerRequest is { } c ? $"{c,7:F2} µs CPU/req" : "CPU n/a"));
                        if (!samples.TryGetValue((config.Name, workload.Name), out List<Sample>? list))
                        {
                            samples[(config.Name, workload.Name)] = list = new List<Sample>();
                        }

                        list.Add(new Sample(result, cpuPerRequest));
                    }
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

        string report = Report(servers, workloads, samples, rounds, duration, connections, pipeline, split);
        Console.Out.WriteLine();
        Console.Out.WriteLine(report);
        Directory.CreateDirectory(outDir!);
        string file = Path.Combine(outDir!, $"http-{DateTime.UtcNow:yyyyMMdd-HHmmss}.md");
        await File.WriteAllTextAsync(file, report, cancellationToken);
        Console.Out.WriteLine($"report: {file}");
        return 0;
    }

    private static string Report(IReadOnlyList<HttpServerConfig> servers, IReadOnlyList<Workload> workloads, Dictionary<(string, string), List<Sample>> samples,
        int rounds, TimeSpan duration, int connections, int pipeline, (int[] Server, int[] Load)? split)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Kestrel: Sockets vs Proactor under wrk");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{rounds} interleaved rounds of {duration.TotalSeconds:F0} s, {connections} connections, pipelined depth {pipeline}; " +
            $"server {CpuAffinity.Describe(split?.Server)}, wrk {CpuAffinity.Describe(split?.Load)}. Median of the rounds; spread = (max - min) / median.");
        foreach (Workload workload in workloads)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"## {workload.Name}");
            text.AppendLine();
            text.AppendLine("| server | req/s | spread | p99 ms | spread | CPU µs/req | spread | req/s vs sockets | CPU/req vs sockets |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            double? baseRate = null, baseCpu = null;
            if (samples.TryGetValue(("sockets", workload.Name), out List<Sample>? baseline))
            {
                baseRate = Median(baseline.Select(s => s.Wrk.RequestsPerSecond));
                baseCpu = baseline.All(s => s.CpuMicrosecondsPerRequest is not null) ? Median(baseline.Select(s => s.CpuMicrosecondsPerRequest!.Value)) : null;
            }

            foreach (HttpServerConfig server in servers)
            {
                if (!samples.TryGetValue((server.Name, workload.Name), out List<Sample>? list))
                {
                    continue;
                }

                double rate = Median(list.Select(s => s.Wrk.RequestsPerSecond));
                double p99 = Median(list.Select(s => s.Wrk.P99Milliseconds));
                bool hasCpu = list.All(s => s.CpuMicrosecondsPerRequest is not null);
                double cpu = hasCpu ? Median(list.Select(s => s.CpuMicrosecondsPerRequest!.Value)) : double.NaN;
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {server.Name} | {rate:F0} | {Spread(list.Select(s => s.Wrk.RequestsPerSecond))} | {p99:F2} | {Spread(list.Select(s => s.Wrk.P99Milliseconds))} | " +
                    $"{(hasCpu ? cpu.ToString("F2", CultureInfo.InvariantCulture) : "n/a")} | {(hasCpu ? Spread(list.Select(s => s.CpuMicrosecondsPerRequest!.Value)) : "")} | " +
                    $"{(baseRate is { } br ? (rate / br).ToString("F2", CultureInfo.InvariantCulture) + "×" : "")} | " +
                    $"{(baseCpu is { } bc && hasCpu ? (cpu / bc).ToString("F2", CultureInfo.InvariantCulture) + "×" : "")} |");
            }
        }

        return text.ToString();
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Spread(IEnumerable<double> values)
    {
        double[] v = values.ToArray();
        double median = Median(v);
        return median == 0 ? "" : ((v.Max() - v.Min()) / median * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";
    }

    private static TimeSpan Duration(string value, string option) =>
        Values.TryParseDuration(value, out TimeSpan d) && d >= TimeSpan.Zero
            ? d
            : throw new UsageException($"{option} needs a duration (e.g. 10, 1.5s, 500ms), not '{value}'");

    private static int PositiveInt(string value, string option) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : throw new UsageException($"{option} must be a positive integer, not '{value}'");

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
