using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading;

namespace Proactor;

public abstract partial class ProactorEngine
{
    private readonly ConcurrentDictionary<string, long> _lastWarning = new(StringComparer.Ordinal);
    private long _slowInlineHandlers;
    private int _socketCount;
    private CompletionQueue? _completions;

    /// <summary>How many inline continuations held the loop thread longer than
    /// <see cref="EngineOptions.InlineHandlerWarningThreshold"/>.</summary>
    public long SlowInlineHandlerCount => Interlocked.Read(ref _slowInlineHandlers);

    /// <summary>Open sockets on this engine (listeners included).</summary>
    public int SocketCount => Volatile.Read(ref _socketCount);

    /// <summary>
    /// The engine's own completion queue. With <see cref="CompletionDispatch.Queue"/> it is the only
    /// way to submit operations and receive completions; other engines may use it too.
    /// </summary>
    public CompletionQueue Completions
    {
        get
        {
            ThrowIfDisposed();
            CompletionQueue? queue = Volatile.Read(ref _completions);
            if (queue is null)
            {
                Interlocked.CompareExchange(ref _completions, new CompletionQueue(this, singleReader: false), null);
                queue = _completions!;
            }

            return queue;
        }
    }

    internal void OnSocketOpened() => Interlocked.Increment(ref _socketCount);

    internal void OnSocketClosed() => Interlocked.Decrement(ref _socketCount);

    private long _inlineThresholdTicks = -1;

    /// <summary>Called after an inline continuation ran on the loop thread for <paramref name="elapsedTicks"/>.</summary>
    internal void OnInlineHandlerRan(long elapsedTicks)
    {
        Statistics.OnHandlerRan(elapsedTicks);
        long threshold = _inlineThresholdTicks;
        if (threshold < 0)
        {
            threshold = _inlineThresholdTicks = (long)(Options.InlineHandlerWarningThreshold.TotalSeconds * Stopwatch.Frequency);
        }

        if (elapsedTicks <= threshold)
        {
            return;
        }

        Interlocked.Increment(ref _slowInlineHandlers);
        ProactorMetrics.SlowInlineHandlers.Add(1, ProactorMetrics.BackendTag(this), ProactorMetrics.EngineTag(this));
        Warn("inline-handler",
            $"Proactor: an inline continuation held the {Name} loop thread for {Stopwatch.GetElapsedTime(0, elapsedTicks).TotalMilliseconds:F0} ms; " +
            "every socket of the engine waited meanwhile. Use CompletionDispatch.ThreadPool for handlers that block.");
    }

    /// <summary>Reports a warning through <see cref="EngineOptions.Logger"/> and
    /// <see cref="EngineOptions.Warning"/> (standard error when neither is set), at most once per
    /// <see cref="EngineOptions.WarningInterval"/> for each <paramref name="kind"/>.</summary>
    internal void Warn(string kind, string message)
    {
        long now = Stopwatch.GetTimestamp();
        long interval = (long)(Options.WarningInterval.TotalSeconds * Stopwatch.Frequency);
        long last = _lastWarning.GetOrAdd(kind, long.MinValue);
        if (last != long.MinValue && now - last < interval)
        {
            return;
        }

        if (!_lastWarning.TryUpdate(kind, now, last))
        {
            return; // another thread is reporting the same kind right now
        }

        if (Options.Logger is { } logger)
        {
            try
            {
                ProactorLog.Warning(logger, kind, InstanceName, message);
            }
            catch (Exception e)
            {
                WriteStandardError($"{message} (the EngineOptions.Logger threw {e.GetType().Name}: {e.Message})");
            }

            if (Options.Warning is null)
            {
                return;
            }
        }

        if (Options.Warning is { } sink)
        {
            try
            {
                sink(message);
            }
            catch (Exception e)
            {
                // Warnings are raised on engine threads: a sink that throws must not end one.
                WriteStandardError($"{message} (the EngineOptions.Warning callback threw {e.GetType().Name}: {e.Message})");
            }
        }
        else
        {
            WriteStandardError(message);
        }
    }

    /// <summary>
    /// Writes a line to standard error, the report of last resort, without ever throwing: it runs
    /// on engine threads, and <see cref="Console.Error"/> itself can fail (its first use duplicates
    /// descriptor 2, which fails with every descriptor in use; a closed pipe; a writer an
    /// application installed). A lost line beats a dead loop thread.
    /// </summary>
    internal static void WriteStandardError(string line)
    {
        try
        {
            Console.Error.WriteLine(line);
        }
        catch (Exception)
        {
            // Nowhere left to report it.
        }
    }
}
