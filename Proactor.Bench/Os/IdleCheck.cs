using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Bench.Os;

/// <summary>
/// Is the machine idle before a comparison starts? Samples the machine-wide CPU counters of
/// <c>/proc/stat</c> over a short window and subtracts this process's own CPU time: what is left
/// was used by other processes (a build's compiler server still running, another benchmark). A
/// busy machine is reported, never refused: the figures of that run say so.
/// </summary>
internal static class IdleCheck
{
    /// <summary>Other processes using more than this share of one CPU make the machine "not idle".</summary>
    public const double BusyThresholdCpus = 0.10;

    /// <summary>Machine-wide CPU time from the first (<c>cpu </c>) line of /proc/stat, in clock ticks.</summary>
    public readonly record struct CpuTicks(long Busy, long Total);

    /// <summary>The result: how many CPUs' worth other processes kept busy, and over how long.</summary>
    public sealed record Result(double OtherCpus, int ProcessorCount, TimeSpan Window)
    {
        public bool IsIdle => OtherCpus <= BusyThresholdCpus;

        /// <summary>How long the check waited for the machine to become idle before this window.</summary>
        public TimeSpan Waited { get; init; }

        /// <summary>One line for the table and the report.</summary>
        public string Describe() => IsIdle
            ? string.Create(CultureInfo.InvariantCulture, $"machine idle before start: other processes used {OtherCpus * 100:0}% of a CPU (of {ProcessorCount})") +
              (Waited > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $", after waiting {Waited.TotalSeconds:0.#} s for them to finish") : "")
            : string.Create(CultureInfo.InvariantCulture,
                $"WARNING: the machine was not idle before start: other processes kept {OtherCpus:0.00} of {ProcessorCount} CPUs busy over {Window.TotalSeconds:0.#} s; figures and ratios of this run may be off");
    }

    /// <summary>
    /// Parses the aggregate line of /proc/stat: <c>cpu user nice system idle iowait irq softirq steal ...</c>.
    /// Busy is everything but idle and iowait; guest time is already inside user and nice.
    /// </summary>
    public static CpuTicks? Parse(string procStat)
    {
        foreach (string line in procStat.Split('\n'))
        {
            if (!line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                continue;
            }

            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 5)
            {
                return null;
            }

            long busy = 0, total = 0;
            for (int i = 1; i < Math.Min(f.Length, 9); i++)
            {
                if (!long.TryParse(f[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v))
                {
                    return null;
                }

                total += v;
                if (i is not (4 or 5))
                {
                    busy += v;
                }
            }

            return new CpuTicks(busy, total);
        }

        return null;
    }

    /// <summary>CPUs' worth of time other processes used between two samples: the machine's busy
    /// ticks minus <paramref name="ownSeconds"/> of our own, over the window's length.</summary>
    public static double OtherCpus(CpuTicks before, CpuTicks after, double ownSeconds, double windowSeconds, long clockTicksPerSecond)
    {
        if (windowSeconds <= 0 || clockTicksPerSecond <= 0)
        {
            return 0;
        }

        double busySeconds = (double)(after.Busy - before.Busy) / clockTicksPerSecond;
        return Math.Max(0, busySeconds - ownSeconds) / windowSeconds;
    }

    /// <summary>
    /// Samples windows of <paramref name="window"/> until one is idle or <paramref name="maxWait"/>
    /// has passed, and returns the last. Right after <c>dotnet run</c> has built the project, the
    /// build's own servers stay busy for a moment (a whole CPU over the first half second, seen
    /// from a fresh clone): the comparison waits for them rather than measuring beside them.
    /// </summary>
    public static async Task<Result?> MeasureUntilIdleAsync(TimeSpan window, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        long start = Stopwatch.GetTimestamp();
        for (bool first = true; ; first = false)
        {
            TimeSpan waited = first ? TimeSpan.Zero : Stopwatch.GetElapsedTime(start);
            Result? result = await MeasureAsync(window, cancellationToken);
            if (result is null || result.IsIdle || Stopwatch.GetElapsedTime(start) >= maxWait)
            {
                return result is null ? null : result with { Waited = waited };
            }
        }
    }

    /// <summary>Samples for <paramref name="window"/>; null where /proc/stat cannot be read (not Linux).</summary>
    public static async Task<Result?> MeasureAsync(TimeSpan window, CancellationToken cancellationToken = default)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        CpuTicks? before = Read();
        TimeSpan own0 = Process.GetCurrentProcess().TotalProcessorTime;
        long t0 = Stopwatch.GetTimestamp();
        await Task.Delay(window, cancellationToken);
        CpuTicks? after = Read();
        TimeSpan own1 = Process.GetCurrentProcess().TotalProcessorTime;
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        if (before is not { } b || after is not { } a)
        {
            return null;
        }

        return new Result(OtherCpus(b, a, (own1 - own0).TotalSeconds, seconds, ProcessCpuTime.ClockTicksPerSecond), Environment.ProcessorCount, TimeSpan.FromSeconds(seconds));
    }

    private static CpuTicks? Read()
    {
        try
        {
            return Parse(File.ReadAllText("/proc/stat"));
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
