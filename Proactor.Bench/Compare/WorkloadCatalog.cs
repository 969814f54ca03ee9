using System.Collections.Generic;
using Proactor.Bench.Cli;
using Proactor.Bench.Load;

namespace Proactor.Bench.Compare;

/// <summary>
/// The workloads of each profile. A new workload is a factory method here (its name, its
/// <see cref="LoadMode"/> and sizes) plus a line in the profile lists of <see cref="For"/>; a name
/// that is in no list can still be asked for by <c>--workloads</c> when <see cref="TryParse"/>
/// understands it.
/// </summary>
internal static class WorkloadCatalog
{
    /// <summary>Workloads named by their parameters, outside any profile: <c>pingpong-8</c>,
    /// <c>pingpong-16KiB-16</c>, <c>pingpong-64x16</c> (connections, then in flight), <c>idle-15000</c>.</summary>
    public static Workload? TryParse(string name)
    {
        System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(
            name, @"^pingpong(?:-(\d+)(B|KiB|MiB))?-(\d+)(?:x(\d+))?$", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);
        if (m.Success &&
            int.TryParse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture, out int connections) && connections is >= 1 and <= 50_000)
        {
            int size = 64;
            if (m.Groups[1].Success)
            {
                int unit = m.Groups[2].Value.ToUpperInvariant() switch { "KIB" => 1024, "MIB" => 1024 * 1024, _ => 1 };
                if (!int.TryParse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture, out size) || size < 1 || size > 16 * 1024 * 1024 / unit)
                {
                    return null;
                }

                size *= unit;
            }

            int inFlight = 1;
            if (m.Groups[4].Success && (!int.TryParse(m.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture, out inFlight) || inFlight is < 1 or > 4096))
            {
                return null;
            }

            return PingPong(connections, size, inFlight);
        }

        System.Text.RegularExpressions.Match idle = System.Text.RegularExpressions.Regex.Match(name, @"^idle-(\d+)$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);
        return idle.Success && int.TryParse(idle.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture, out int n) && n <= 100_000 ? Idle(n) : null;
    }

    public static Workload PingPong(int connections, int size = 64, int inFlight = 1) => new()
    {
        Name = Name("pingpong", connections, size, inFlight),
        Mode = LoadMode.PingPong,
        Connections = connections,
        MessageSize = size,
        InFlight = inFlight,
        Description = $"{Bytes(size)} ping-pong, {connections} connection{(connections == 1 ? "" : "s")}" +
                      (inFlight > 1 ? $", {inFlight} in flight each" : ""),
    };

    public static Workload Stream(int connections = 1, int chunk = 64 * 1024, int inFlight = 8) => new()
    {
        Name = connections == 1 ? "stream" : $"stream-{connections}",
        Mode = LoadMode.Stream,
        Connections = connections,
        MessageSize = chunk,
        InFlight = inFlight,
        Description = $"streaming {Bytes(chunk)} writes, {inFlight} in flight, {connections} connection{(connections == 1 ? "" : "s")} (MB/s)",
    };

    public static Workload UdpPingPong(int sockets, int size = 64) => new()
    {
        Name = Name("udp-pingpong", sockets, size, 1),
        Mode = LoadMode.UdpPingPong,
        Connections = sockets,
        MessageSize = size,
        InFlight = 1,
        Description = $"{Bytes(size)} UDP ping-pong, {sockets} socket{(sockets == 1 ? "" : "s")} (one datagram in flight each)",
    };

    public static Workload UnixPingPong(int connections, int size = 64) => new()
    {
        Name = Name("unix-pingpong", connections, size, 1),
        Mode = LoadMode.UnixPingPong,
        Connections = connections,
        MessageSize = size,
        InFlight = 1,
        Description = $"{Bytes(size)} ping-pong over Unix domain stream sockets, {connections} connection{(connections == 1 ? "" : "s")}",
    };

    public static Workload Churn(int concurrency = 16) => new()
    {
        Name = concurrency == 16 ? "churn" : $"churn-{concurrency}",
        Mode = LoadMode.Churn,
        Connections = concurrency,
        MessageSize = 64,
        Description = $"connect, one 64 B echo, close; {concurrency} at a time (ops = connections)",
    };

    public static Workload Idle(int idle, int active = 4) => new()
    {
        Name = $"idle-{idle}",
        Mode = LoadMode.PingPong,
        Connections = active,
        MessageSize = 64,
        Idle = idle,
        IsIdleScaling = true,
        Description = $"64 B ping-pong on {active} connections beside {idle} idle ones",
    };

    public static IReadOnlyList<int> DefaultIdleCounts { get; } = [0, 1000, 10000];

    public static List<Workload> For(RunProfile profile, IReadOnlyList<int> idleCounts)
    {
        var list = new List<Workload>();
        switch (profile)
        {
            case RunProfile.Quick:
                list.AddRange([PingPong(1), PingPong(64), Stream(), Churn()]);
                return list;
            case RunProfile.Full:
                list.AddRange([
                    PingPong(1), PingPong(64), PingPong(1000),
                    PingPong(1, 4096), PingPong(64, 4096), PingPong(1000, 4096),
                    PingPong(64, 64, 16),
                    Stream(), Stream(4),
                    Churn(), Churn(64),
                    UdpPingPong(1), UdpPingPong(64),
                    UnixPingPong(1), UnixPingPong(64),
                ]);
                break;
            default:
                list.AddRange([PingPong(1), PingPong(64), PingPong(1000), PingPong(64, 4096), Stream(), Churn(), UdpPingPong(1), UdpPingPong(64), UnixPingPong(1), UnixPingPong(64)]);
                break;
        }

        foreach (int idle in idleCounts)
        {
            list.Add(Idle(idle));
        }

        return list;
    }

    /// <summary>The workload <c>--connections/--size/--in-flight</c> describe.</summary>
    public static Workload Custom(int connections, int size, int inFlight) => PingPong(connections, size, inFlight) with
    {
        Name = "custom-" + Name("pingpong", connections, size, inFlight),
    };

    private static string Name(string kind, int connections, int size, int inFlight) =>
        $"{kind}{(size == 64 ? "" : "-" + Bytes(size).Replace(" ", "", System.StringComparison.Ordinal))}-{connections}{(inFlight > 1 ? "x" + inFlight : "")}";

    public static string Bytes(int size) =>
        size % (1024 * 1024) == 0 ? $"{size / (1024 * 1024)} MiB" : size % 1024 == 0 ? $"{size / 1024} KiB" : $"{size} B";
}
