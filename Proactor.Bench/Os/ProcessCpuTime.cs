using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace Proactor.Bench.Os;

/// <summary>A process's CPU time so far: in user space and in the kernel (system time).</summary>
internal readonly record struct CpuTimes(TimeSpan User, TimeSpan System)
{
    public TimeSpan Total => User + System;

    public static CpuTimes operator -(CpuTimes later, CpuTimes earlier) =>
        new(later.User - earlier.User, later.System - earlier.System);
}

/// <summary>
/// CPU time (user and system, all threads) of another process: from <c>/proc/&lt;pid&gt;/stat</c> on
/// Linux, from the OS process API elsewhere. Null when neither answers (e.g. under Wine), and the
/// report leaves the CPU figures out.
/// </summary>
internal static class ProcessCpuTime
{
    private static readonly Lazy<long> s_clockTicks = new(ReadClockTicks);

    /// <summary>The kernel's clock ticks per second (USER_HZ), which /proc counts in.</summary>
    public static long ClockTicksPerSecond => s_clockTicks.Value;

    public static TimeSpan? Read(int pid) => ReadTimes(pid)?.Total;

    /// <summary>As <see cref="Read"/>, split into user and system time.</summary>
    public static CpuTimes? ReadTimes(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            return ReadProcStat(pid);
        }

        try
        {
            using Process process = Process.GetProcessById(pid);
            var t = new CpuTimes(process.UserProcessorTime, process.PrivilegedProcessorTime);
            return t.Total > TimeSpan.Zero ? t : null;
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>utime + stime from /proc/&lt;pid&gt;/stat (fields 14 and 15, in clock ticks).</summary>
    public static CpuTimes? ReadProcStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        return ParseProcStat(text, s_clockTicks.Value);
    }

    /// <summary>Parses a /proc/&lt;pid&gt;/stat line. The command name (field 2) may hold spaces and
    /// parentheses, so fields are counted from the last ')'.</summary>
    public static CpuTimes? ParseProcStat(string text, long clockTicksPerSecond)
    {
        int close = text.LastIndexOf(')');
        if (close < 0 || clockTicksPerSecond <= 0)
        {
            return null;
        }

        string[] fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // fields[0] is field 3 (state); utime is field 14, stime field 15.
        if (fields.Length < 13 ||
            !long.TryParse(fields[11], NumberStyles.Integer, CultureInfo.InvariantCulture, out long utime) ||
            !long.TryParse(fields[12], NumberStyles.Integer, CultureInfo.InvariantCulture, out long stime))
        {
            return null;
        }

        return new CpuTimes(
            TimeSpan.FromSeconds((double)utime / clockTicksPerSecond),
            TimeSpan.FromSeconds((double)stime / clockTicksPerSecond));
    }

    private static long ReadClockTicks()
    {
        try
        {
            long ticks = Interop.SysConf(Interop._SC_CLK_TCK);
            return ticks > 0 ? ticks : 100;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 100;
        }
    }
}
