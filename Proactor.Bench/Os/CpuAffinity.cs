using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;

namespace Proactor.Bench.Os;

/// <summary>
/// Pins child processes to CPU sets. A child inherits the affinity of the thread that forks it,
/// so the runner narrows its own thread's mask around <see cref="Process.Start()"/> and restores it:
/// every thread of the child (the runtime's own ones included) is born pinned, with no race against
/// threads it creates early. Linux only; elsewhere nothing is pinned and the report says so.
/// </summary>
internal static unsafe class CpuAffinity
{
    private static readonly Lock s_startLock = new();

    /// <summary>The CPUs this process may run on, or null where that cannot be read.</summary>
    public static IReadOnlyList<int>? Allowed()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            byte* mask = stackalloc byte[Interop.CpuSetBytes];
            new Span<byte>(mask, Interop.CpuSetBytes).Clear();
            if (Interop.SchedGetAffinity(0, Interop.CpuSetBytes, mask) != 0)
            {
                return null;
            }

            var cpus = new List<int>();
            for (int cpu = 0; cpu < Interop.CpuSetBytes * 8; cpu++)
            {
                if ((mask[cpu / 8] & (1 << (cpu % 8))) != 0)
                {
                    cpus.Add(cpu);
                }
            }

            return cpus;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Splits the allowed CPUs between server and load generator (the server gets the first half,
    /// rounded up). Null when there are fewer than two CPUs or affinity is not available: then
    /// nothing is pinned.
    /// </summary>
    public static (int[] Server, int[] Load)? Split()
    {
        IReadOnlyList<int>? cpus = Allowed();
        if (cpus is null || cpus.Count < 2)
        {
            return null;
        }

        int serverCount = (cpus.Count + 1) / 2;
        return (cpus.Take(serverCount).ToArray(), cpus.Skip(serverCount).ToArray());
    }

    /// <summary>Starts <paramref name="info"/> with every thread of the new process pinned to
    /// <paramref name="cpus"/> (null: not pinned).</summary>
    public static Process Start(ProcessStartInfo info, int[]? cpus)
    {
        if (cpus is null || cpus.Length == 0 || !OperatingSystem.IsLinux())
        {
            return Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        }

        lock (s_startLock)
        {
            byte* saved = stackalloc byte[Interop.CpuSetBytes];
            byte* wanted = stackalloc byte[Interop.CpuSetBytes];
            new Span<byte>(saved, Interop.CpuSetBytes).Clear();
            new Span<byte>(wanted, Interop.CpuSetBytes).Clear();
            foreach (int cpu in cpus)
            {
                wanted[cpu / 8] |= (byte)(1 << (cpu % 8));
            }

            bool pinned = Interop.SchedGetAffinity(0, Interop.CpuSetBytes, saved) == 0 &&
                          Interop.SchedSetAffinity(0, Interop.CpuSetBytes, wanted) == 0;
            try
            {
                return Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
            }
            finally
            {
                if (pinned)
                {
                    Interop.SchedSetAffinity(0, Interop.CpuSetBytes, saved);
                }
            }
        }
    }

    public static string Describe(int[]? cpus) =>
        cpus is null ? "not pinned" : "cpu " + string.Join(",", cpus);
}
