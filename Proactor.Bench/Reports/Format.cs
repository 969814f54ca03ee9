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

    /// <summary>A ratio over rounds: <c>1.42× (1.31–1.55)</c>; <c>≈ (0.93–1.08)</c> when the rounds
    /// disagree about which side of 1.0 it is on; one round: just its figure.</summary>
    public static string Ratio(Compare.Spread? spread) => spread switch
    {
        null => "–",
        { Count: 1 } s => Ratio(s.Median),
        var s when s.Min == s.Max => Ratio(s.Median),
        { StraddlesOne: true } s => $"≈ ({s.Min.ToString("0.00", s_invariant)}–{s.Max.ToString("0.00", s_invariant)})",
        var s => $"{Ratio(s.Median)} ({s.Min.ToString("0.00", s_invariant)}–{s.Max.ToString("0.00", s_invariant)})",
    };

    /// <summary>A rate over rounds, min and max in the median's unit: <c>98.1 k (95.0–101.2)</c>.</summary>
    public static string Rate(Compare.Spread? spread) => spread switch
    {
        null => "–",
        { Count: 1 } s => Rate(s.Median),
        var s => $"{Rate(s.Median)} ({Scaled(s.Min, s.Median)}–{Scaled(s.Max, s.Median)})",
    };

    private static string Scaled(double value, double like) => like switch
    {
        >= 1e6 => (value / 1e6).ToString("0.00", s_invariant),
        >= 1e4 => (value / 1e3).ToString("0.0", s_invariant),
        _ => value.ToString("0", s_invariant),
    };

    /// <summary>CPU µs per op over rounds: <c>6.52 (6.40–6.71)</c>.</summary>
    /// <summary>A latency over rounds: <c>1,269 (1,180–10,781)</c>; one round: just its figure.</summary>
    public static string Micros(Compare.Spread? spread) => spread switch
    {
        null => "–",
        { Count: 1 } s => Micros(s.Median),
        var s => $"{Micros(s.Median)} ({Micros(s.Min)}–{Micros(s.Max)})",
    };

    public static string CpuMicros(Compare.Spread? spread) => spread switch
    {
        null => "–",
        { Count: 1 } s => CpuMicros(s.Median),
        var s => $"{CpuMicros(s.Median)} ({CpuMicros(s.Min)}–{CpuMicros(s.Max)})",
    };

    public static string Number(double value, string format = "0.##") => value.ToString(format, s_invariant);
}
