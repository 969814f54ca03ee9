using System.Collections.Generic;

namespace Proactor.Bench.Load;

/// <summary>What one measurement produced. Rates are over the measured window only (warm-up and
/// drain excluded); latencies are round trips in microseconds.</summary>
internal sealed class LoadResult
{
    /// <summary>The backend the load generator's clients ran on (the engine's name).</summary>
    public string? ClientBackend { get; set; }

    /// <summary>Round trips completed in the window (connections for churn, chunks for streaming).</summary>
    public long Messages { get; set; }

    /// <summary>Payload bytes echoed back in the window (one direction).</summary>
    public long Bytes { get; set; }

    public double Seconds { get; set; }

    public double MessagesPerSecond { get; set; }

    public double MegabytesPerSecond { get; set; }

    public double P50Us { get; set; }

    public double P99Us { get; set; }

    public double P999Us { get; set; }

    public double MaxUs { get; set; }

    public double MeanUs { get; set; }

    /// <summary>Server CPU time (user + system) spent in the window, when it could be read.</summary>
    public double? ServerCpuSeconds { get; set; }

    /// <summary>Server CPU time per round trip, microseconds.</summary>
    public double? ServerCpuUsPerMessage { get; set; }

    /// <summary>Of <see cref="ServerCpuSeconds"/>, the server's system time: spent in the kernel
    /// on its behalf (syscalls, the loopback's delivery, scheduling).</summary>
    public double? ServerKernelSeconds { get; set; }

    /// <summary>Of <see cref="ServerCpuUsPerMessage"/>, the system time, microseconds per round trip.</summary>
    public double? ServerKernelUsPerMessage { get; set; }

    /// <summary>The load generator's own CPU time in the window.</summary>
    public double? ClientCpuSeconds { get; set; }

    /// <summary>The load generator's CPU time over the window, as a share of the CPUs it may use
    /// (1.0: all of them busy, so it, not the server, may have set the pace).</summary>
    public double? ClientCpuUtilization { get; set; }

    /// <summary>Active plus idle connections that were open during the window.</summary>
    public int ConnectionsOpen { get; set; }

    /// <summary>Wrong bytes, early closes, lost messages, failed connections.</summary>
    public long Errors { get; set; }

    /// <summary>The first few errors, described.</summary>
    public List<string> ErrorSamples { get; set; } = [];

    /// <summary>Set when the measurement could not run at all (nothing listening, descriptors exhausted).</summary>
    public string? Fatal { get; set; }
}
