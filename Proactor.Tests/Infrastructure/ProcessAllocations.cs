using System;
using System.Threading.Tasks;

namespace Proactor.Tests.Infrastructure;

/// <summary>
/// Counts what the whole process allocates while a piece of a test runs. Allocation tests count
/// every thread (<see cref="GC.GetTotalAllocatedBytes(bool)"/>), because continuations run on
/// engine and pool threads; so they also count what other threads of the test process allocate
/// meanwhile. The largest such source is the test platform itself: after a test ends it turns the
/// test's result (output, XML) into messages on its own threads while the next test already runs,
/// megabytes after a test that printed much (3.9 MB in the first 80 ms of the next test after one
/// that printed 300 KB; with both cores busy it went on into the next 80 ms). A measurement
/// therefore first waits until the process is quiet.
/// </summary>
internal static class ProcessAllocations
{
    /// <summary>Below this many bytes in one <see cref="QuietWindowMilliseconds"/> window the process
    /// counts as quiet (the wait's own timer allocates a few hundred bytes).</summary>
    public const int QuietBytes = 4096;

    public const int QuietWindowMilliseconds = 20;

    /// <summary>A process that never gets quiet is measured anyway after this long; the tests take
    /// the best of several measurements, and a per-operation allocation shows in every one.</summary>
    public const int MaxQuietWaitMilliseconds = 2000;

    /// <summary>Waits for a quiet process, then returns the bytes allocated by all threads while
    /// <paramref name="run"/> ran.</summary>
    public static async Task<long> MeasureAsync(Func<Task> run)
    {
        await QuietAsync();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        await run();
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    /// <summary>As <see cref="MeasureAsync(Func{Task})"/>, for a run that returns a result.</summary>
    public static async Task<(long Bytes, T Result)> MeasureAsync<T>(Func<Task<T>> run)
    {
        await QuietAsync();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        T result = await run();
        return (GC.GetTotalAllocatedBytes(precise: true) - before, result);
    }

    /// <summary>Returns once a window of <see cref="QuietWindowMilliseconds"/> passed in which the
    /// process allocated less than <see cref="QuietBytes"/>, or after
    /// <see cref="MaxQuietWaitMilliseconds"/>.</summary>
    public static async Task QuietAsync()
    {
        long giveUpAt = Environment.TickCount64 + MaxQuietWaitMilliseconds;
        long last = GC.GetTotalAllocatedBytes(precise: true);
        while (Environment.TickCount64 < giveUpAt)
        {
            await Task.Delay(QuietWindowMilliseconds);
            long now = GC.GetTotalAllocatedBytes(precise: true);
            if (now - last < QuietBytes)
            {
                return;
            }

            last = now;
        }
    }
}
