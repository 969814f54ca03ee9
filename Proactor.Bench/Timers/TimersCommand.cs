using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Cli;
using Proactor.Bench.Micro;
using Spectre.Console;

namespace Proactor.Bench.Timers;

/// <summary>
/// <c>timers</c>: how late the engines' deadlines fire. Many pending <c>engine.Delay</c>s spread
/// over a few seconds, on every backend with inline dispatch (the firing time is taken on the
/// engine's own thread), in interleaved rounds; prints each backend's lateness percentiles with
/// their spread over the rounds. The conformance suite asserts only that deadlines are never
/// early, keep their order and are none lost: lateness is the machine's as much as the engine's,
/// so it is measured here, not asserted in a test.
/// </summary>
internal static class TimersCommand
{
    public static async Task<int> RunAsync(TimersSettings settings)
    {
        int count = settings.CountValue;
        TimeSpan spread = settings.SpreadValue;
        int rounds = settings.RoundsValue;
        string[]? only = settings.Backends?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] backends = MicroBackends.Names().Where(n => n.EndsWith("/inline", StringComparison.Ordinal))
            .Where(n => only is null || only.Contains(n) || only.Contains(n[..^"/inline".Length]))
            .ToArray();
        if (backends.Length == 0)
        {
            throw new UsageException($"timers: no backend matches; available: {string.Join(", ", MicroBackends.Names())}");
        }

        Console.Out.WriteLine($"{count} deadlines spread over {spread.TotalSeconds:F1} s per run; {rounds} interleaved rounds; lateness in ms (firing time - due time)");
        var results = backends.ToDictionary(b => b, _ => new List<(double P50, double P99, double Max)>());
        for (int round = 0; round < rounds; round++)
        {
            foreach (string backend in backends)
            {
                using ProactorEngine engine = MicroBackends.Create(backend);
                results[backend].Add(await MeasureAsync(engine, count, spread, seed: round));
            }
        }

        var table = new Table().AddColumns("backend", "p50 ms", "p99 ms", "max ms");
        foreach (string backend in backends)
        {
            var r = results[backend];
            table.AddRow(Markup.Escape(backend), Markup.Escape(Range(r.Select(x => x.P50))), Markup.Escape(Range(r.Select(x => x.P99))), Markup.Escape(Range(r.Select(x => x.Max))));
        }

        AnsiConsole.Write(table);
        Console.Out.WriteLine("Each cell: the median over the rounds, [min-max] of the rounds.");
        return 0;
    }

    private static async Task<(double P50, double P99, double Max)> MeasureAsync(ProactorEngine engine, int count, TimeSpan spread, int seed)
    {
        var random = new Random(seed);
        long[] due = new long[count];
        long[] fired = new long[count];
        var tasks = new Task[count];
        for (int i = 0; i < count; i++)
        {
            var delay = TimeSpan.FromMilliseconds(20 + (random.NextDouble() * spread.TotalMilliseconds));
            int index = i;
            due[i] = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
            tasks[i] = engine.Delay(delay).ContinueWith(
                _ => fired[index] = Stopwatch.GetTimestamp(),
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        await Task.WhenAll(tasks).WaitAsync(spread + TimeSpan.FromSeconds(60));
        double[] late = Enumerable.Range(0, count)
            .Select(i => (fired[i] - due[i]) * 1000.0 / Stopwatch.Frequency)
            .OrderBy(x => x)
            .ToArray();
        return (late[count / 2], late[(int)(count * 0.99)], late[^1]);
    }

    private static string Range(IEnumerable<double> values)
    {
        double[] v = values.OrderBy(x => x).ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"{v[v.Length / 2]:F2} [{v[0]:F2}-{v[^1]:F2}]");
    }
}
