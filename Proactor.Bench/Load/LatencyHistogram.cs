using System.Diagnostics;
using HdrHistogram;

namespace Proactor.Bench.Load;

/// <summary>Round-trip latencies in nanoseconds (1 ns to 60 s, 3 significant digits), recorded
/// from many connections at once.</summary>
internal sealed class LatencyHistogram
{
    private const long Highest = 60L * 1_000_000_000;
    private static readonly double s_nanosecondsPerTick = 1e9 / Stopwatch.Frequency;
    private readonly LongConcurrentHistogram _histogram = new(1, Highest, 3);

    public void RecordTicks(long ticks)
    {
        long ns = (long)(ticks * s_nanosecondsPerTick);
        _histogram.RecordValue(ns < 1 ? 1 : ns > Highest ? Highest : ns);
    }

    public long Count => _histogram.TotalCount;

    /// <summary>The latency at <paramref name="percentile"/> (0..100), microseconds.</summary>
    public double PercentileUs(double percentile) =>
        Count == 0 ? 0 : _histogram.GetValueAtPercentile(percentile) / 1000.0;

    public double MaxUs => Count == 0 ? 0 : _histogram.GetMaxValue() / 1000.0;

    public double MeanUs => Count == 0 ? 0 : _histogram.GetMean() / 1000.0;
}
