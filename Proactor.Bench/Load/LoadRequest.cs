namespace Proactor.Bench.Load;

/// <summary>One measurement for the load generator: where, what, how long.</summary>
internal sealed class LoadRequest
{
    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; }

    public LoadMode Mode { get; set; } = LoadMode.PingPong;

    /// <summary>Active connections (for churn: concurrent connect-echo-close cycles).</summary>
    public int Connections { get; set; } = 1;

    public int MessageSize { get; set; } = 64;

    /// <summary>Messages in flight per connection.</summary>
    public int InFlight { get; set; } = 1;

    /// <summary>Connections opened first and left idle for the whole measurement.</summary>
    public int Idle { get; set; }

    public double WarmupSeconds { get; set; } = 0.3;

    public double DurationSeconds { get; set; } = 1;

    /// <summary>After the measured window, how long outstanding messages may take to come back
    /// before they count as lost.</summary>
    public double DrainSeconds { get; set; } = 2;

    /// <summary>The server's process id, for its CPU time; 0 when unknown.</summary>
    public int ServerPid { get; set; }
}
