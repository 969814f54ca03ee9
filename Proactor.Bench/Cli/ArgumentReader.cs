using System;
using System.Collections.Generic;
using System.Globalization;

namespace Proactor.Bench.Cli;

/// <summary>
/// Walks a command's arguments: <c>--name value</c>, <c>--name=value</c> and flags. Every parse
/// error is a <see cref="UsageException"/> that names the option and what was expected.
/// (Spectre.Console.Cli is not available from the package source; this is all the runner needs.)
/// </summary>
internal sealed class ArgumentReader
{
    private readonly IReadOnlyList<string> _args;
    private readonly string _command;
    private int _index;
    private string? _inlineValue;

    public ArgumentReader(IReadOnlyList<string> args, string command)
    {
        _args = args;
        _command = command;
    }

    /// <summary>Moves to the next argument. Options come back without their inline value
    /// (<c>--port=5</c> yields <c>--port</c>; <see cref="Value"/> then returns 5).</summary>
    public bool Next(out string argument)
    {
        if (_inlineValue is not null)
        {
            throw new UsageException($"{_command}: option '{_args[_index - 1]}' takes no value.");
        }

        if (_index >= _args.Count)
        {
            argument = "";
            return false;
        }

        argument = _args[_index++];
        int eq = argument.IndexOf('=', StringComparison.Ordinal);
        if (argument.StartsWith("--", StringComparison.Ordinal) && eq > 2)
        {
            _inlineValue = argument[(eq + 1)..];
            argument = argument[..eq];
        }

        return true;
    }

    /// <summary>The value of the option just read.</summary>
    public string Value(string option)
    {
        if (_inlineValue is { } inline)
        {
            _inlineValue = null;
            return inline;
        }

        if (_index >= _args.Count)
        {
            throw new UsageException($"{_command}: option '{option}' needs a value.");
        }

        return _args[_index++];
    }

    public int Int(string option, int min, int max)
    {
        string text = Value(option);
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new UsageException($"{_command}: option '{option}' needs a whole number from {min} to {max}, not '{text}'.");
        }

        return value;
    }

    public int Size(string option, int min, int max)
    {
        string text = Value(option);
        if (!TryParseSize(text, out long value) || value < min || value > max)
        {
            throw new UsageException($"{_command}: option '{option}' needs a size from {min} to {max} bytes (e.g. 64, 4k, 64KiB), not '{text}'.");
        }

        return (int)value;
    }

    public TimeSpan Duration(string option, TimeSpan min, TimeSpan max)
    {
        string text = Value(option);
        if (!TryParseDuration(text, out TimeSpan value) || value < min || value > max)
        {
            throw new UsageException(
                $"{_command}: option '{option}' needs a duration from {min.TotalSeconds:0.###} s to {max.TotalSeconds:0.###} s (e.g. 2, 1.5s, 500ms), not '{text}'.");
        }

        return value;
    }

    public List<string> List(string option)
    {
        var items = new List<string>();
        foreach (string part in Value(option).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            items.Add(part);
        }

        if (items.Count == 0)
        {
            throw new UsageException($"{_command}: option '{option}' needs at least one name.");
        }

        return items;
    }

    public UsageException Unknown(string argument) =>
        argument.StartsWith('-')
            ? new UsageException($"{_command}: unknown option '{argument}' (see 'help').")
            : new UsageException($"{_command}: unexpected argument '{argument}' (see 'help').");

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
