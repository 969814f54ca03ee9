using System;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace Proactor.Tests.Infrastructure;

/// <summary>CPU time used over a span of wall time in which an engine should be idle.</summary>
internal static class IdleCpu
{
    /// <summary>
    /// On Linux: the CPU time of the engines' own threads (named <c>proactor-…</c>), read from
    /// /proc, so the runtime's background work in the test process (tiered JIT, GC) does not count.
    /// Elsewhere: the whole process, as the least of three spans: the runtime's (and Wine's) own
    /// background work comes in bursts that one span may catch, while a spinning loop fills every span.
    /// </summary>
    public static TimeSpan Measure(TimeSpan span)
    {
        if (OperatingSystem.IsLinux())
        {
            long before = EngineThreadTicks();
            Thread.Sleep(span);
            return TimeSpan.FromSeconds((EngineThreadTicks() - before) / 100.0); // USER_HZ
        }

        TimeSpan least = TimeSpan.MaxValue;
        using Process self = Process.GetCurrentProcess();
        for (int i = 0; i < 3; i++)
        {
            self.Refresh();
            TimeSpan start = self.TotalProcessorTime;
            Thread.Sleep(span);
            self.Refresh();
            TimeSpan used = self.TotalProcessorTime - start;
            least = used < least ? used : least;
        }

        return least;
    }

    private static long EngineThreadTicks()
    {
        long ticks = 0;
        foreach (string task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith("proactor", StringComparison.Ordinal))
                {
                    continue;
                }

                // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks += long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) +
                         long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }

        return ticks;
    }
}
