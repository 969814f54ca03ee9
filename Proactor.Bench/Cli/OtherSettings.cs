using System;
using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Proactor.Bench.Cli;

/// <summary><c>timers</c>: how late the engines' deadlines fire.</summary>
internal sealed class TimersSettings : CommandSettings
{
    [CommandOption("--count <N>")]
    [Description("Pending deadlines per run")]
    [DefaultValue("10000")]
    public string Count { get; set; } = "10000";

    [CommandOption("--spread <TIME>")]
    [Description("Deadlines spread over this long")]
    [DefaultValue("4s")]
    public string Spread { get; set; } = "4s";

    [CommandOption("--rounds <N>")]
    [Description("Interleaved rounds over the backends")]
    [DefaultValue("3")]
    public string Rounds { get; set; } = "3";

    [CommandOption("--backends <NAMES>")]
    [Description("Only these backends, comma-separated (epoll-et, poll, io_uring, ...)")]
    public string? Backends { get; set; }

    public int CountValue => Values.Int("timers", "--count", Count, 1, 10_000_000);

    public int RoundsValue => Values.Int("timers", "--rounds", Rounds, 1, 1000);

    public TimeSpan SpreadValue => Values.Duration("timers", "--spread", Spread, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10));

    public override ValidationResult Validate() => Values.Validate(() =>
    {
        _ = CountValue + RoundsValue;
        _ = SpreadValue;
        _ = Backends is null ? null : Values.List("timers", "--backends", Backends);
    });
}

/// <summary><c>micro [filter] [-- BenchmarkDotNet options]</c>.</summary>
internal sealed class MicroSettings : CommandSettings
{
    [CommandArgument(0, "[filter]")]
    [Description("Benchmarks whose name contains this (or a BenchmarkDotNet glob); all when left out. BenchmarkDotNet's own options follow")]
    public string? Filter { get; set; }
}

/// <summary><c>idle</c>: server memory per idle connection.</summary>
internal sealed class IdleSettings : CommandSettings
{
    [CommandOption("-c|--connections <N>")]
    [Description("Idle connections per server (each echoed once)")]
    [DefaultValue("15000")]
    public string Connections { get; set; } = "15000";

    [CommandOption("--servers <NAMES>")]
    [Description("Servers to measure, comma-separated, as compare names them")]
    [DefaultValue("default,epoll-et,epoll-et/inline,sockets")]
    public string Servers { get; set; } = "default,epoll-et,epoll-et/inline,sockets";

    [CommandOption("--external <NAME=CMD>")]
    [Description("Also measure an external echo server (repeatable); CMD gets the port at {port}")]
    public string[] External { get; set; } = [];

    public int ConnectionsValue => Values.Int("idle", "--connections", Connections, 1, 1_000_000);

    public override ValidationResult Validate() => Values.Validate(() =>
    {
        _ = ConnectionsValue;
        _ = Values.List("idle", "--servers", Servers);
        foreach (string e in External)
        {
            _ = Proactor.Bench.Servers.ExternalServer.Parse(e);
        }
    });
}

/// <summary>The hidden <c>loadgen</c> command.</summary>
internal sealed class LoadGenSettings : CommandSettings
{
    [CommandOption("--loops <N>")]
    [Description("Client event loops (inline dispatch)")]
    [DefaultValue("1")]
    public string Loops { get; set; } = "1";

    [CommandOption("--backend <NAME>")]
    [Description("The client engines' backend (default: io_uring where the kernel allows it, else epoll-et)")]
    public string? Backend { get; set; }

    public int LoopsValue => Values.Int("loadgen", "--loops", Loops, 1, 256);

    public override ValidationResult Validate() => Values.Validate(() =>
    {
        _ = LoopsValue;
        if (Backend is not null)
        {
            _ = BackendNames.ParseBackend(Backend);
        }
    });
}
