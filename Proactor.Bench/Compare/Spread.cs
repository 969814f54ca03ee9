using System;
using System.Collections.Generic;
using System.Linq;

namespace Proactor.Bench.Compare;

/// <summary>
/// One cell's figure over the rounds: the median (what the table shows) and the smallest and
/// largest round (how far to trust it). The median, not the mean, so one round disturbed by the
/// machine does not move the figure.
/// </summary>
internal sealed record Spread(double Median, double Min, double Max, int Count)
{
    /// <summary>The spread of <paramref name="values"/>, or null when there are none.</summary>
    public static Spread? Of(IEnumerable<double> values)
    {
        double[] v = values.Where(x => !double.IsNaN(x)).Order().ToArray();
        if (v.Length == 0)
        {
            return null;
        }

        double median = v.Length % 2 == 1 ? v[v.Length / 2] : (v[(v.Length / 2) - 1] + v[v.Length / 2]) / 2;
        return new Spread(median, v[0], v[^1], v.Length);
    }

    /// <summary>
    /// For a spread of per-round ratios: true when the rounds disagree about which side of 1.0 the
    /// ratio is on, so no "faster" or "cheaper" may be claimed (the table prints "≈"). One round
    /// proves nothing either way, but neither does it straddle: it prints its figure.
    /// </summary>
    public bool StraddlesOne => Min < 1.0 && Max > 1.0;

    /// <summary>(max - min) / median: how much the rounds disagree.</summary>
    public double RelativeWidth => Median == 0 ? 0 : (Max - Min) / Math.Abs(Median);
}
