using System.Collections.Generic;
using System.Globalization;

namespace Proactor.Bench.Servers;

/// <summary>One server of a comparison: what it is and how to start it.</summary>
internal sealed record ServerSpec
{
    /// <summary>The name in tables and filters, e.g. <c>epoll-et</c>, <c>epoll-lt/inline</c>, <c>sockets</c>.</summary>
    public required string Name { get; init; }

    public required ServerKind Kind { get; init; }

    public BackendKind Backend { get; init; }

    public CompletionDispatch Dispatch { get; init; }

    public bool LevelTriggered { get; init; }

    /// <summary>io_uring with every operation an SQE: the pure completion design.</summary>
    public bool SqeOnly { get; init; }

    /// <summary>Main + sub loops: the number of engines in a group (0: one engine, no group).</summary>
    public int Loops { get; init; }

    /// <summary>How a group spreads accepted connections over its loops.</summary>
    public AcceptDistribution Distribution { get; init; }

    /// <summary>For <see cref="ServerKind.External"/>: the command line, with <c>{port}</c> where the port goes.</summary>
    public string? Command { get; init; }

    /// <summary>True for the variants only <c>--full</c> runs (so the default run stays near two
    /// minutes however many backends there are): other dispatch policies on non-default backends,
    /// level-triggered epoll with them, and the least-loaded group.</summary>
    public bool FullProfileOnly { get; init; }

    /// <summary>What the report says about the server.</summary>
    public required string Description { get; init; }

    /// <summary>The System.Net.Sockets server: ratios are taken against it.</summary>
    public bool IsBaseline => Kind == ServerKind.Sockets;

    /// <summary>The most descriptors a workload may need from this server, or null for no known limit:
    /// select(2) cannot watch a descriptor numbered FD_SETSIZE (1024) or above; the margin covers the
    /// runtime's own descriptors, the listener and the engine's wake-up descriptor.</summary>
    public int? MaxConnections => Kind is ServerKind.Proactor or ServerKind.Reactor && Backend == BackendKind.Select ? 1024 - 64 : null;

    /// <summary>True when the idle-descriptor workloads are run on this server: one per
    /// demultiplexer / native backend (default dispatch, edge-triggered epoll), plus the baseline.</summary>
    public bool RunsIdleScaling =>
        (Kind == ServerKind.Proactor && Dispatch == CompletionDispatch.ThreadPool && !LevelTriggered && !SqeOnly && Loops == 0) || Kind == ServerKind.Sockets ||
        (Kind == ServerKind.Reactor && !LevelTriggered);

    /// <summary>The <c>serve</c> arguments that run this server (all but external ones).</summary>
    public IReadOnlyList<string> ServeArguments(int port)
    {
        var args = new List<string> { "serve", "--server", Kind.ToString().ToLowerInvariant(), "--port", port.ToString(CultureInfo.InvariantCulture) };
        if (Kind is ServerKind.Proactor or ServerKind.Reactor)
        {
            args.AddRange(["--backend", Backend.ToString().ToLowerInvariant(), "--dispatch", Dispatch.ToString().ToLowerInvariant()]);
            if (LevelTriggered)
            {
                args.Add("--level-triggered");
            }

            if (SqeOnly)
            {
                args.Add("--sqe-only");
            }

            if (Loops > 0)
            {
                args.AddRange(["--loops", Loops.ToString(CultureInfo.InvariantCulture), "--distribution", Distribution.ToString().ToLowerInvariant()]);
            }
        }

        return args;
    }
}
