using System.ComponentModel;
using System.Net;
using Proactor.Bench.Servers;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Proactor.Bench.Cli;

/// <summary>The command line of <c>serve</c>; <see cref="ToOptions"/> checks it.</summary>
internal sealed class ServeSettings : CommandSettings
{
    [CommandOption("-b|--backend <BACKEND>")]
    [Description("default, epoll (epoll-et, epoll-lt), poll, select, io_uring, iocp")]
    public string? Backend { get; set; }

    [CommandOption("--dispatch <DISPATCH>")]
    [Description("threadpool, inline or queue (the raw completion-queue API)")]
    public string? Dispatch { get; set; }

    [CommandOption("--level-triggered")]
    [Description("epoll: level-triggered instead of edge-triggered")]
    public bool LevelTriggered { get; set; }

    [CommandOption("--sqe-only")]
    [Description("io_uring: every operation an SQE (no direct try first)")]
    public bool SqeOnly { get; set; }

    [CommandOption("-p|--port <PORT>")]
    [Description("Port to listen on (0: any; the 'listening on' line says which)")]
    [DefaultValue("5000")]
    public string Port { get; set; } = "5000";

    [CommandOption("--address <IP>")]
    [Description("Address to listen on")]
    [DefaultValue("127.0.0.1")]
    public string Address { get; set; } = "127.0.0.1";

    [CommandOption("--loops <N>")]
    [Description("Main + sub loops: an engine group of N loops")]
    public string? Loops { get; set; }

    [CommandOption("--distribution <D>")]
    [Description("How a group spreads connections: roundrobin, leastloaded, reuseport")]
    public string? Distribution { get; set; }

    [CommandOption("--server <KIND>")]
    [Description("proactor, reactor (readiness handlers), sockets (System.Net.Sockets async) or blocking (thread per connection)")]
    public string? Server { get; set; }

    [CommandOption("--block-every <N>")]
    [Description("With --block-ms: after every Nth message received (all connections together) the handler blocks its thread first, as a synchronous call in a handler would")]
    public string? BlockEvery { get; set; }

    [CommandOption("--block-ms <MS>")]
    [Description("How long that handler blocks, in milliseconds (with --block-every)")]
    public string? BlockMilliseconds { get; set; }

    public override ValidationResult Validate() => Values.Validate(() =>
    {
        _ = ToOptions();
    });

    public ServeOptions ToOptions()
    {
        const string C = "serve";
        var options = new ServeOptions { Port = Values.Int(C, "--port", Port, 0, 65535) };
        if (Backend is not null)
        {
            (BackendKind backend, bool lt) = BackendNames.ParseBackend(Backend);
            options = options with { Backend = backend, LevelTriggered = lt };
        }

        if (LevelTriggered)
        {
            options = options with { LevelTriggered = true };
        }

        if (Dispatch is not null)
        {
            options = options with { Dispatch = BackendNames.ParseDispatch(Dispatch) };
        }

        if (!IPAddress.TryParse(Address, out IPAddress? address))
        {
            throw new UsageException($"serve: '{Address}' is not an IP address (e.g. 127.0.0.1 or ::1).");
        }

        options = options with
        {
            Address = address,
            SqeOnly = SqeOnly,
            Loops = Loops is { } n ? Values.Int(C, "--loops", n, 1, 1024) : 0,
            Distribution = Distribution is null ? AcceptDistribution.RoundRobin : ServeOptions.ParseDistribution(Distribution),
            Server = Server is null ? ServerKind.Proactor : ServeOptions.ParseServer(Server),
            BlockEvery = BlockEvery is { } every ? Values.Int(C, "--block-every", every, 1, 1_000_000_000) : 0,
            BlockMilliseconds = BlockMilliseconds is { } ms ? Values.Int(C, "--block-ms", ms, 1, 10_000) : 0,
        };
        options.Check();
        return options;
    }
}
