using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Os;

namespace Proactor.Bench.Http;

/// <summary>One wrk run's figures.</summary>
internal sealed record WrkResult(long Requests, double Seconds, double RequestsPerSecond, double P99Milliseconds, long Errors, long Non2xx);

/// <summary>Finds, runs and reads wrk (the HTTP load generator TechEmpower uses).</summary>
internal static partial class Wrk
{
    public const string InstallHint = "wrk is not installed: on Debian/Ubuntu run 'apt-get install -y wrk' (or pass --wrk PATH).";

    /// <summary>wrk's pipelining script: each request sends <c>depth</c> requests back to back, as
    /// TechEmpower's plaintext test does with a depth of 16.</summary>
    public const string PipelineScript = """
        init = function(args)
          local depth = tonumber(args[1]) or 1
          local r = {}
          for i = 1, depth do r[i] = wrk.format() end
          req = table.concat(r)
        end
        request = function() return req end
        """;

    public static string? Locate(string? explicitPath)
    {
        if (explicitPath is not null)
        {
            return File.Exists(explicitPath) ? explicitPath : null;
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "wrk");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static async Task<WrkResult> RunAsync(string wrk, Uri url, int connections, TimeSpan duration, string? script, int pipeline, int[]? cpus, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(wrk)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-t1"); // one core for the load generator: one thread
        info.ArgumentList.Add($"-c{connections}");
        info.ArgumentList.Add($"-d{Math.Max(1, (int)Math.Round(duration.TotalSeconds))}s");
        info.ArgumentList.Add("--latency");
        if (script is not null)
        {
            info.ArgumentList.Add("-s");
            info.ArgumentList.Add(script);
        }

        info.ArgumentList.Add(url.ToString());
        if (script is not null)
        {
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(pipeline.ToString(CultureInfo.InvariantCulture));
        }

        using Process process = CpuAffinity.Start(info, cpus);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        string output = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"wrk exited with {process.ExitCode}: {(await stderr).Trim()} {output.Trim()}");
        }

        return Parse(output);
    }

    public static WrkResult Parse(string output)
    {
        Match total = TotalRegex().Match(output);
        Match rate = RateRegex().Match(output);
        Match p99 = P99Regex().Match(output);
        if (!total.Success || !rate.Success || !p99.Success)
        {
            throw new InvalidOperationException($"could not read wrk's output: {output.Trim()}");
        }

        long errors = 0;
        foreach (Match m in SocketErrorsRegex().Matches(output))
        {
            for (int g = 1; g <= 4; g++)
            {
                errors += long.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
            }
        }

        Match non2xx = Non2xxRegex().Match(output);
        return new WrkResult(
            long.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture),
            Seconds(total.Groups[2].Value, total.Groups[3].Value) / 1000,
            double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture),
            Seconds(p99.Groups[1].Value, p99.Groups[2].Value),
            errors,
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
    }

    /// <summary>wrk's durations ("812.00us", "1.23ms", "2.01s", "1.5m") in milliseconds.</summary>
    private static double Seconds(string value, string unit)
    {
        double v = double.Parse(value, CultureInfo.InvariantCulture);
        return unit switch
        {
            "us" => v / 1000,
            "ms" => v,
            "s" => v * 1000,
            "m" => v * 60_000,
            "h" => v * 3_600_000,
            _ => throw new InvalidOperationException($"unknown wrk time unit '{unit}'"),
        };
    }

    [GeneratedRegex(@"(\d+) requests in ([\d.]+)(us|ms|s|m|h)")]
    private static partial Regex TotalRegex();

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RateRegex();

    [GeneratedRegex(@"^\s+99%\s+([\d.]+)(us|ms|s|m|h)", RegexOptions.Multiline)]
    private static partial Regex P99Regex();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrorsRegex();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex Non2xxRegex();

    public static IReadOnlyList<string> Describe(WrkResult r) =>
        new[] { $"{r.RequestsPerSecond:F0} req/s", $"p99 {r.P99Milliseconds:F2} ms", $"{r.Requests} requests" };
}
