using System;
using System.Globalization;

namespace Proactor.Tests.Infrastructure;

/// <summary>
/// The knobs of the randomized tests. CI runs each for a short while on every fixture (about
/// thirteen of them, so the suite stays short); a local soak sets <c>PROACTOR_STRESS_SECONDS</c>,
/// and a failure is replayed by setting <c>PROACTOR_RACE_SEED</c> to the seed it printed.
/// </summary>
internal static class Stress
{
    /// <summary>How long one randomized test runs on one fixture.</summary>
    public static TimeSpan Duration { get; } = TimeSpan.FromSeconds(
        double.TryParse(Environment.GetEnvironmentVariable("PROACTOR_STRESS_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 ? s : 2);

    /// <summary>The seed to use: the one given in <c>PROACTOR_RACE_SEED</c>, else a fresh one (print it).</summary>
    public static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("PROACTOR_RACE_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed)
            ? seed
            : Random.Shared.Next();

    /// <summary>Busy-waits about <paramref name="microseconds"/> on this thread (a race's random
    /// delay, shorter than any sleep).</summary>
    public static void SpinFor(int microseconds)
    {
        long end = System.Diagnostics.Stopwatch.GetTimestamp() + (microseconds * System.Diagnostics.Stopwatch.Frequency / 1_000_000);
        while (System.Diagnostics.Stopwatch.GetTimestamp() < end)
        {
            System.Threading.Thread.SpinWait(10);
        }
    }

    /// <summary>
    /// Position-dependent bytes of an endless stream: byte <paramref name="position"/> of a
    /// direction's counter stream. A lost, duplicated or reordered piece changes what the receiver
    /// compares, and the sequence does not repeat with any short period.
    /// </summary>
    public static byte StreamByte(long position)
    {
        ulong x = (ulong)position * 0x9E3779B97F4A7C15ul;
        x ^= x >> 29;
        return (byte)(x ^ (x >> 11));
    }

    /// <summary>Fills <paramref name="buffer"/> with the counter stream from <paramref name="start"/>.</summary>
    public static void FillStream(Span<byte> buffer, long start)
    {
        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] = StreamByte(start + i);
        }
    }

    /// <summary>A new array of <paramref name="length"/> bytes of the counter stream from <paramref name="start"/>.</summary>
    public static byte[] StreamBytes(int length, long start)
    {
        byte[] data = new byte[length];
        FillStream(data, start);
        return data;
    }
}
