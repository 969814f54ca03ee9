using System;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Core;

/// <summary>
/// The allocation tests count every thread's allocations; their helper waits until the rest of
/// the process has stopped allocating before it measures (the test platform reports the previous
/// test on its own threads while the next one starts).
/// </summary>
[TestFixture]
[NonParallelizable] // counts the whole process's allocations
public sealed class ProcessAllocationsTests
{
    [Test]
    public async Task A_measurement_waits_until_another_thread_has_stopped_allocating()
    {
        const int AllocatingMilliseconds = 300;
        var state = new AllocatorState();
        var allocator = new Thread(() =>
        {
            long until = Environment.TickCount64 + AllocatingMilliseconds;
            Volatile.Write(ref state.Started, true);
            while (Environment.TickCount64 < until)
            {
                state.Last = new byte[256];
                state.Count++;
            }

            Volatile.Write(ref state.Stopped, true);
        })
        { IsBackground = true, Name = "allocator" };
        allocator.Start();
        while (!Volatile.Read(ref state.Started))
        {
            await Task.Delay(1);
        }

        // The measured run lasts long enough to catch the other thread's allocations had the
        // helper not waited for it.
        long bytes = await ProcessAllocations.MeasureAsync(() => Task.Delay(50));
        bool stoppedBeforeTheMeasurement = Volatile.Read(ref state.Stopped);
        allocator.Join();

        TestContext.Out.WriteLine($"{bytes} bytes measured; the other thread allocated {state.Count} arrays of 256 bytes");
        Assert.That(stoppedBeforeTheMeasurement, Is.True, "measured while another thread was still allocating");
        Assert.That(bytes, Is.LessThan(ProcessAllocations.QuietBytes));
    }

    [Test]
    public async Task A_measurement_counts_what_the_run_allocates()
    {
        object?[] kept = new object?[100];
        long bytes = await ProcessAllocations.MeasureAsync(() =>
        {
            for (int i = 0; i < kept.Length; i++)
            {
                kept[i] = new byte[1000];
            }

            return Task.CompletedTask;
        });

        Assert.That(bytes, Is.GreaterThanOrEqualTo(100 * 1000));
        GC.KeepAlive(kept);
    }

    private sealed class AllocatorState
    {
        public bool Started;
        public bool Stopped;
        public object? Last;
        public long Count;
    }
}
