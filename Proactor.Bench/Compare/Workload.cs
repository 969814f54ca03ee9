using Proactor.Bench.Load;

namespace Proactor.Bench.Compare;

/// <summary>One workload of the comparison matrix.</summary>
internal sealed record Workload
{
    public required string Name { get; init; }

    public required LoadMode Mode { get; init; }

    public int Connections { get; init; } = 1;

    public int MessageSize { get; init; } = 64;

    public int InFlight { get; init; } = 1;

    public int Idle { get; init; }

    /// <summary>True for the idle-descriptor scaling series (run only on one server per demultiplexer).</summary>
    public bool IsIdleScaling { get; init; }

    public required string Description { get; init; }

    /// <summary>Descriptors the server needs for this workload.</summary>
    public int ServerConnections => Connections + Idle;
}
