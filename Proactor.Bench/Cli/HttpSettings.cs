using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Linq;
using Proactor.Bench.Http;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Proactor.Bench.Cli;

/// <summary><c>http</c>: Kestrel on Sockets vs Kestrel on Proactor under wrk.</summary>
internal sealed class HttpSettings : CommandSettings
{
    [CommandOption("--rounds <N>")]
    [Description("Interleaved rounds; each cell reports the median and min-max of the rounds")]
    [DefaultValue("3")]
    public string Rounds { get; set; } = "3";

    [CommandOption("--duration <TIME>")]
    [Description("Measured wrk run per server, workload and round (whole seconds: wrk's unit)")]
    [DefaultValue("10s")]
    public string Duration { get; set; } = "10s";

    [CommandOption("--warmup <TIME>")]
    [Description("Discarded wrk run before each measured one (0: none)")]
    [DefaultValue("3s")]
    public string Warmup { get; set; } = "3s";

    [CommandOption("--settle <TIME>")]
    [Description("Discarded wrk load on every server before the first round, shared among the workloads, so the JIT has finished tiering before anything is measured (0: none)")]
    [DefaultValue("12s")]
    public string Settle { get; set; } = "12s";

    [CommandOption("-c|--connections <N>")]
    [Description("wrk connections")]
    [DefaultValue("64")]
    public string Connections { get; set; } = "64";

    [CommandOption("--pipeline <N>")]
    [Description("Requests per pipelined batch in the 'pipelined' workload (TechEmpower: 16)")]
    [DefaultValue("16")]
    public string Pipeline { get; set; } = "16";

    [CommandOption("--servers <NAMES>")]
    [Description("Only these Kestrel configurations, comma-separated: sockets, proactor (UseProactor()'s defaults), proactor-threadpool, proactor-inline, proactor-epoll-inline; also proactor-per-request (a pool work item per request) and proactor-unsafe-inline (requests on the loop thread)")]
    public string? Servers { get; set; }

    [CommandOption("--workloads <NAMES>")]
    [Description("Only these workloads, comma-separated: plaintext, pipelined, json")]
    public string? Workloads { get; set; }

    [CommandOption("--wrk <PATH>")]
    [Description("wrk to run (default: the one on PATH; 'apt-get install -y wrk')")]
    public string? Wrk { get; set; }

    [CommandOption("--no-pin")]
    [Description("Do not pin the servers and wrk to separate CPUs")]
    public bool NoPin { get; set; }

    [CommandOption("--out <DIR>")]
    [Description("Where the Markdown report goes")]
    [DefaultValue("results")]
    public string Out { get; set; } = "results";

    public int RoundsValue => Values.Int("http", "--rounds", Rounds, 1, 100);

    // wrk counts whole seconds: below one it would still run one.
    public TimeSpan DurationValue => Values.Duration("http", "--duration", Duration, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));

    public TimeSpan WarmupValue => Values.Duration("http", "--warmup", Warmup, TimeSpan.Zero, TimeSpan.FromHours(1));

    public TimeSpan SettleValue => Values.Duration("http", "--settle", Settle, TimeSpan.Zero, TimeSpan.FromHours(1));

    public int ConnectionsValue => Values.Int("http", "--connections", Connections, 1, 100_000);

    public int PipelineValue => Values.Int("http", "--pipeline", Pipeline, 1, 1024);

    public IReadOnlyList<HttpServerConfig> ServersValue => Servers is null
        ? HttpServerConfig.DefaultRun.ToList()
        : Values.List("http", "--servers", Servers).Select(n => HttpServerConfig.Catalog.FirstOrDefault(c => c.Name == n)
            ?? throw new UsageException($"http: unknown server '{n}'; servers: {string.Join(", ", HttpServerConfig.Catalog.Select(c => c.Name))}.")).ToList();

    public IReadOnlyList<HttpWorkload> WorkloadsValue => Workloads is null
        ? HttpWorkload.All
        : Values.List("http", "--workloads", Workloads).Select(n => HttpWorkload.All.FirstOrDefault(w => w.Name == n)
            ?? throw new UsageException($"http: unknown workload '{n}'; workloads: {string.Join(", ", HttpWorkload.All.Select(w => w.Name))}.")).ToList();

    public override ValidationResult Validate() => Values.Validate(() =>
    {
        _ = RoundsValue + ConnectionsValue + PipelineValue;
        _ = DurationValue + WarmupValue + SettleValue;
        _ = ServersValue;
        _ = WorkloadsValue;
    });
}

/// <summary>The hidden <c>http-serve</c>: one Kestrel server, the child process <c>http</c> starts.</summary>
internal sealed class HttpServeSettings : CommandSettings
{
    [CommandOption("--name <NAME>")]
    [Description("Name printed on the listening line")]
    [DefaultValue("proactor")]
    public string Name { get; set; } = "proactor";

    [CommandOption("--transport <KIND>")]
    [Description("Kestrel's transport: sockets or proactor")]
    [DefaultValue("proactor")]
    public string Transport { get; set; } = "proactor";

    [CommandOption("--backend <NAME>")]
    [Description("Proactor backend (default, epoll, io_uring, ...)")]
    [DefaultValue("default")]
    public string Backend { get; set; } = "default";

    [CommandOption("--dispatch <NAME>")]
    [Description("Proactor dispatch: threadpool, inline, or default (the transport's: inline)")]
    [DefaultValue("default")]
    public string Dispatch { get; set; } = "default";

    [CommandOption("--loops <N>")]
    [Description("Proactor loops (0: one per core)")]
    [DefaultValue("0")]
    public string Loops { get; set; } = "0";

    [CommandOption("--application <NAME>")]
    [Description("Where Proactor resumes request handling: default (UseProactor()'s: the pool, batched per loop iteration), threadpool (a pool work item per resumption) or inline (on the loop thread: unsafe)")]
    [DefaultValue("default")]
    public string Application { get; set; } = "default";

    [CommandOption("-p|--port <PORT>")]
    [Description("Port on 127.0.0.1 (0: any free one, printed)")]
    [DefaultValue("0")]
    public string Port { get; set; } = "0";

    /// <summary>The configuration these options describe.</summary>
    public HttpServerConfig ToConfig() => new(
        Name,
        Transport is "sockets" or "proactor" ? Transport : throw new UsageException($"http-serve: option '--transport' is sockets or proactor, not '{Transport}'."),
        BackendNames.ParseBackend(Backend).Backend,
        Dispatch.Equals("default", StringComparison.OrdinalIgnoreCase) ? null : BackendNames.ParseDispatch(Dispatch),
        Values.Int("http-serve", "--loops", Loops, 0, 256),
        Values.Int("http-serve", "--port", Port, 0, 65535),
        Application is "default" or "threadpool" or "inline" ? Application : throw new UsageException($"http-serve: option '--application' is default, threadpool or inline, not '{Application}'."));

    public override ValidationResult Validate() => Values.Validate(() =>
    {
        _ = ToConfig();
    });
}
