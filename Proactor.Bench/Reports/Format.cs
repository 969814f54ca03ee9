using System.Globalization;

namespace Proactor.Bench.Reports;

/// <summary>Number formats shared by the console table, the Markdown report and the charts.</summary>
internal static class Format
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    /// <summary>A rate: 1.23 M, 123.4 k, 123.</summary>
    public static string Rate(double value) => value switch
    {
        >= 1e6 => (value / 1e6).ToString("0.00", s_invariant) + " M",
        >= 1e4 => (value / 1e3).ToString("0.0", s_invariant) + " k",
        _ => value.ToString("0", s_invariant),
    };

    public static string Megabytes(double value) =>
        value >= 100 ? value.ToString("0", s_invariant) : value >= 1 ? value.ToString("0.0", s_invariant) : value.ToString("0.00", s_invariant);

    public static string Micros(double value) =>
        value >= 100 ? value.ToString("#,0", s_invariant) : value.ToString("0.0", s_invariant);

    public static string CpuMicros(double? value) =>
        value is { } v ? (v >= 100 ? v.ToString("#,0", s_invariant) : v.ToString("0.00", s_invariant)) : "–";

    public static string Ratio(double? value) =>
        value is { } v ? v.ToString("0.00", s_invariant) + "×" : "–";

    public static string Number(double value, string format = "0.##") => value.ToString(format, s_invariant);
}
