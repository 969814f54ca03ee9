using System.Collections.Generic;
using System.Net;
using Proactor.Bench.Servers;

namespace Proactor.Bench.Cli;

/// <summary><c>serve [--backend B] [--dispatch D] [--level-triggered] [--sqe-only] [--loops N [--distribution D]] [--port P] [--address A] [--server proactor|reactor|sockets|blocking]</c>.</summary>
internal sealed record ServeOptions
{
    public ServerKind Server { get; init; } = ServerKind.Proactor;

    public BackendKind Backend { get; init; } = BackendKind.Default;

    public CompletionDispatch Dispatch { get; init; } = CompletionDispatch.ThreadPool;

    public bool LevelTriggered { get; init; }

    /// <summary>io_uring: every operation an SQE (<see cref="EngineOptions.IoUringTryBeforeSubmit"/> off).</summary>
    public bool SqeOnly { get; init; }

    /// <summary>Main + sub loops: engines in a group (0: a single engine).</summary>
    public int Loops { get; init; }

    public AcceptDistribution Distribution { get; init; } = AcceptDistribution.RoundRobin;

    public IPAddress Address { get; init; } = IPAddress.Loopback;

    public int Port { get; init; } = 5000;

    public static ServeOptions Parse(IReadOnlyList<string> args)
    {
        var reader = new ArgumentReader(args, "serve");
        var options = new ServeOptions();
        while (reader.Next(out string arg))
        {
            switch (arg)
            {
                case "--backend":
                case "-b":
                    (BackendKind backend, bool lt) = BackendNames.ParseBackend(reader.Value(arg));
                    options = options with { Backend = backend, LevelTriggered = options.LevelTriggered || lt };
                    break;
                case "--dispatch":
                    options = options with { Dispatch = BackendNames.ParseDispatch(reader.Value(arg)) };
                    break;
                case "--level-triggered":
                    options = options with { LevelTriggered = true };
                    break;
                case "--sqe-only":
                    options = options with { SqeOnly = true };
                    break;
                case "--port":
                case "-p":
                    options = options with { Port = reader.Int(arg, 0, 65535) };
                    break;
                case "--address":
                    string text = reader.Value(arg);
                    if (!IPAddress.TryParse(text, out IPAddress? address))
                    {
                        throw new UsageException($"serve: '{text}' is not an IP address (e.g. 127.0.0.1 or ::1).");
                    }

                    options = options with { Address = address };
                    break;
                case "--loops":
                    options = options with { Loops = reader.Int(arg, 1, 1024) };
                    break;
                case "--distribution":
                    options = options with { Distribution = ParseDistribution(reader.Value(arg)) };
                    break;
                case "--server":
                    options = options with { Server = ParseServer(reader.Value(arg)) };
                    break;
                default:
                    throw reader.Unknown(arg);
            }
        }

        if (options.LevelTriggered && options.Backend is not (BackendKind.Epoll or BackendKind.Default))
        {
            throw new UsageException($"serve: --level-triggered applies to the epoll backend, not {options.Backend.ToString().ToLowerInvariant()}.");
        }

        if (options.SqeOnly && options.Backend != BackendKind.IoUring)
        {
            throw new UsageException($"serve: --sqe-only applies to the io_uring backend, not {options.Backend.ToString().ToLowerInvariant()}.");
        }

        if (options.Loops > 0 && options.Dispatch == CompletionDispatch.Queue)
        {
            throw new UsageException("serve: --loops (an engine group) works with the threadpool and inline dispatch policies, not queue.");
        }

        if (options.Server is not (ServerKind.Proactor or ServerKind.Reactor) && options.Backend != BackendKind.Default)
        {
            throw new UsageException($"serve: --backend applies to the Proactor server and the Reactor server, not --server {options.Server.ToString().ToLowerInvariant()}.");
        }

        return options;
    }

    private static AcceptDistribution ParseDistribution(string text)
    {
        string n = text.Replace("-", "", System.StringComparison.Ordinal).Replace("_", "", System.StringComparison.Ordinal);
        foreach (AcceptDistribution d in System.Enum.GetValues<AcceptDistribution>())
        {
            if (d.ToString().Equals(n, System.StringComparison.OrdinalIgnoreCase))
            {
                return d;
            }
        }

        throw new UsageException($"serve: unknown distribution '{text}'; known: roundrobin, leastloaded, reuseport.");
    }

    private static ServerKind ParseServer(string text) => text.ToLowerInvariant() switch
    {
        "proactor" => ServerKind.Proactor,
        "reactor" => ServerKind.Reactor,
        "sockets" => ServerKind.Sockets,
        "blocking" => ServerKind.Blocking,
        _ => throw new UsageException($"serve: unknown server '{text}'; known: proactor, reactor, sockets, blocking."),
    };
}
