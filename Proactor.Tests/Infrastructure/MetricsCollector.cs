using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;

namespace Proactor.Tests.Infrastructure;

/// <summary>
/// Listens to every instrument of the <c>Proactor</c> meter, keeping what one engine (by its
/// <c>engine</c> tag) reported: the latest value of each observable series, the sum of each
/// counter's adds. <see cref="Collect"/> reads the observable instruments.
/// </summary>
internal sealed class MetricsCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _engine;
    private readonly Dictionary<string, double> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _sums = new(StringComparer.Ordinal);

    public MetricsCollector(string engineInstanceName)
    {
        _engine = engineInstanceName;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Proactor")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    /// <summary>Tags seen on this engine's measurements (for the backend tag check).</summary>
    public HashSet<string> Backends { get; } = new(StringComparer.Ordinal);

    /// <summary>Reads every observable instrument now.</summary>
    public void Collect()
    {
        lock (_values)
        {
            _values.Clear();
        }

        _listener.RecordObservableInstruments();
    }

    /// <summary>The latest value of an observable series, or the sum of a counter's adds, whose
    /// tags include every one of <paramref name="tags"/> (name=value), summed over series.</summary>
    public double Get(string instrument, params string[] tags)
    {
        lock (_values)
        {
            return Match(_values, instrument, tags) + Match(_sums, instrument, tags);
        }
    }

    private static double Match(Dictionary<string, double> series, string instrument, string[] tags) =>
        series.Where(kv => kv.Key.StartsWith(instrument + "|", StringComparison.Ordinal) &&
                           tags.All(t => kv.Key.Contains("|" + t + "|", StringComparison.Ordinal)))
              .Sum(kv => kv.Value);

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? engine = null;
        var key = new System.Text.StringBuilder(instrument.Name).Append('|');
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            key.Append(tag.Key).Append('=').Append(tag.Value).Append('|');
            if (tag.Key == "engine")
            {
                engine = tag.Value as string;
            }
        }

        if (engine != _engine)
        {
            return;
        }

        lock (_values)
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "backend")
                {
                    Backends.Add((string)tag.Value!);
                }
            }

            if (instrument.IsObservable)
            {
                _values[key.ToString()] = value;
            }
            else
            {
                _sums[key.ToString()] = _sums.GetValueOrDefault(key.ToString()) + value;
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}
