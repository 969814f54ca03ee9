using System;
using System.Collections.Generic;
using System.Globalization;

namespace Proactor.Bench.Cli;

/// <summary>
/// The value syntaxes the commands share (sizes with units, durations, comma lists). Each parse
/// error is a <see cref="UsageException"/> that names the option and what was expected, so the
/// settings' <c>Validate</c> can hand it to Spectre.Console.Cli as is.
/// </summary>
internal static class Values
{
    /// <summary>A settings class's Validate: runs <paramref name="check"/> (which throws
    /// <see cref="UsageException"/> on a bad value) and turns its message into Spectre's error.</summary>
    public static Spectre.Console.ValidationResult Validate(Action check)
    {
        try
        {
            check();
            return Spectre.Console.ValidationResult.Success();
        }
        catch (UsageException e)
        {
            return Spectre.Console.ValidationResult.Error(e.Message);
        }
    }

    public static int Int(string command, string option, string text, int min, int max) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw new UsageException($"{command}: option '{option}' needs a whole number from {min} to {max}, not '{text}'.");

    public static int Size(string command, string option, string text, int min, int max) =>
        TryParseSize(text, out long value) && value >= min && value <= max
            ? (int)value
            : throw new UsageException($"{command}: option '{option}' needs a size from {min} to {max} bytes (e.g. 64, 4k, 64KiB), not '{text}'.");

    public static TimeSpan Duration(string command, string option, string text, TimeSpan min, TimeSpan max) =>
        TryParseDuration(text, out TimeSpan value) && value >= min && value <= max
            ? value
            : throw new UsageException(
                $"{command}: option '{option}' needs a duration from {min.TotalSeconds:0.###} s to {max.TotalSeconds:0.###} s (e.g. 2, 1.5s, 500ms), not '{text}'.");

    public static List<string> List(string command, string option, string text)
    {
        var items = new List<string>(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return items.Count > 0 ? items : throw new UsageException($"{command}: option '{option}' needs at least one name.");
    }

    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        string t = text.Trim().ToUpperInvariant();
        long multiplier = 1;
        foreach ((string suffix, long factor) in new[] { ("KIB", 1024L), ("MIB", 1024L * 1024), ("KB", 1024L), ("MB", 1024L * 1024), ("K", 1024L), ("M", 1024L * 1024), ("B", 1L) })
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal))
            {
                multiplier = factor;
                t = t[..^suffix.Length];
                break;
            }
        }

        if (!long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) || n < 0 || n > int.MaxValue / multiplier)
        {
            return false;
        }

        bytes = n * multiplier;
        return true;
    }

    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        string t = text.Trim().ToLowerInvariant();
        double scale = 1;
        if (t.EndsWith("ms", StringComparison.Ordinal))
        {
            scale = 0.001;
            t = t[..^2];
        }
        else if (t.EndsWith('s'))
        {
            t = t[..^1];
        }

        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || double.IsNaN(value) || value < 0 || value > 86400)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(value * scale);
        return true;
    }
}
