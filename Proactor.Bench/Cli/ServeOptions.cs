using System.Linq;
using System.Net;
using Proactor.Bench.Servers;

namespace Proactor.Bench.Cli;

/// <summary>What <c>serve</c> runs, checked (see <see cref="ServeSettings"/> for the command line).</summary>
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

    /// <summary>With <see cref="BlockMilliseconds"/>: the handler blocks after every Nth message (0: never).</summary>
    public int BlockEvery { get; init; }

    public int BlockMilliseconds { get; init; }

    /// <summary>The handler that sometimes blocks, when asked for.</summary>
    public BlockingHandler? Blocking => BlockEvery > 0 ? new BlockingHandler(BlockEvery, BlockMilliseconds) : null;

    /// <summary>Parses <c>serve</c>'s arguments exactly as the program does (the tests use it).</summary>
    public static ServeOptions Parse(string[] args) => BenchCli.Parse<ServeSettings>("serve", args).ToOptions();

    /// <summary>Refuses combinations that mean nothing.</summary>
    public void Check()
    {
        ServeOptions options = this;
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

        if ((options.BlockEvery > 0) != (options.BlockMilliseconds > 0))
        {
            throw new UsageException("serve: --block-every and --block-ms go together: how often the handler blocks, and for how long.");
        }

        if (options.BlockEvery > 0 && (options.Server is not (ServerKind.Proactor or ServerKind.Sockets) || options.Dispatch == CompletionDispatch.Queue))
        {
            throw new UsageException(options.Dispatch == CompletionDispatch.Queue
                ? "serve: a blocking handler (--block-every) is for the awaiting echo loop (threadpool or inline dispatch), not the completion-queue server."
                : $"serve: a blocking handler (--block-every) applies to --server proactor and --server sockets, not {options.Server.ToString().ToLowerInvariant()}.");
        }

        if (options.Server is not (ServerKind.Proactor or ServerKind.Reactor) && options.Backend != BackendKind.Default)
        {
            throw new UsageException($"serve: --backend applies to the Proactor server and the Reactor server, not --server {options.Server.ToString().ToLowerInvariant()}.");
        }
    }

    public static AcceptDistribution ParseDistribution(string text)
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

    /// <summary>Any <see cref="ServerKind"/> but External, by name: a kind added to the enum (and to
    /// <see cref="ServeCommand.Start"/>) is servable without a change here.</summary>
    public static ServerKind ParseServer(string text)
    {
        var kinds = System.Enum.GetValues<ServerKind>().Where(k => k != ServerKind.External).ToList();
        foreach (ServerKind kind in kinds)
        {
            if (kind.ToString().Equals(text, System.StringComparison.OrdinalIgnoreCase))
            {
                return kind;
            }
        }

        throw new UsageException($"serve: unknown server '{text}'; known: {string.Join(", ", kinds.Select(k => k.ToString().ToLowerInvariant()))}.");
    }
}
