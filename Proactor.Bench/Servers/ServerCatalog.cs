using System;
using System.Collections.Generic;

namespace Proactor.Bench.Servers;

/// <summary>
/// Finds the servers this machine can run. Every <see cref="BackendKind"/> except Default is tried
/// through <see cref="EngineFactory"/>; whatever throws is not available here (with the reason it
/// gave). A backend added to the enum and the factory is compared without any change here.
/// </summary>
internal static class ServerCatalog
{
    public sealed record Unavailable(string Name, string Reason);

    public sealed record Catalog(IReadOnlyList<ServerSpec> Servers, IReadOnlyList<Unavailable> Unavailable, ServerSpec? DefaultBackend);

    /// <summary>Every Proactor variant (backend x dispatch, plus level-triggered epoll), the
    /// System.Net.Sockets baseline and the blocking server.</summary>
    /// <param name="groupLoops">Loops of the engine-group variants (main + sub loops).</param>
    public static Catalog Discover(int groupLoops = 2)
    {
        var servers = new List<ServerSpec>();
        var unavailable = new List<Unavailable>();
        ServerSpec? defaultBackend = null;

        BackendKind? defaultKind = null;
        if (TryProbe(new EngineOptions(), out string? defaultName, out BackendKind actualDefault, out _))
        {
            defaultKind = actualDefault;
            _ = defaultName;
        }

        foreach (BackendKind backend in Enum.GetValues<BackendKind>())
        {
            if (backend == BackendKind.Default)
            {
                continue;
            }

            foreach (bool levelTriggered in backend == BackendKind.Epoll ? new[] { false, true } : [false])
            {
                if (!TryProbe(new EngineOptions { Backend = backend, EpollLevelTriggered = levelTriggered }, out string? name, out _, out string? reason))
                {
                    unavailable.Add(new Unavailable(levelTriggered ? "epoll-lt" : backend.ToString().ToLowerInvariant(), reason!));
                    continue;
                }

                foreach (CompletionDispatch dispatch in Enum.GetValues<CompletionDispatch>())
                {
                    var spec = new ServerSpec
                    {
                        Name = dispatch == CompletionDispatch.ThreadPool ? name! : $"{name}/{dispatch.ToString().ToLowerInvariant()}",
                        Kind = ServerKind.Proactor,
                        Backend = backend,
                        Dispatch = dispatch,
                        LevelTriggered = levelTriggered,
                        FullProfileOnly = dispatch != CompletionDispatch.ThreadPool && (backend != defaultKind || levelTriggered),
                        Description = $"Proactor {name}, {DescribeDispatch(dispatch)}",
                    };
                    servers.Add(spec);
                    if (defaultBackend is null && backend == defaultKind && !levelTriggered && dispatch == CompletionDispatch.ThreadPool)
                    {
                        defaultBackend = spec;
                    }
                }
            }
        }

        // io_uring as a pure completion design, every operation an SQE, beside the default
        // that first tries a receive or send at once: what the try buys, measured.
        if (servers.Find(spec => spec.Backend == BackendKind.IoUring && spec.Dispatch == CompletionDispatch.ThreadPool) is { } uring)
        {
            servers.Add(uring with
            {
                Name = $"{uring.Name}/sqe-only",
                SqeOnly = true,
                FullProfileOnly = uring != defaultBackend,
                Description = $"Proactor {uring.Name}, every operation an SQE (no direct try), {DescribeDispatch(uring.Dispatch)}",
            });
        }

        // Main + sub loops on every available backend, with inline continuations (each loop runs
        // its own connections' handlers, the topology's point) and with thread-pool dispatch.
        // Only the default backend's inline variants run outside --full.
        var groupBases = servers.FindAll(spec => spec.Dispatch == CompletionDispatch.ThreadPool && !spec.SqeOnly);
        foreach (ServerSpec baseSpec in groupBases)
        {
            foreach (CompletionDispatch dispatch in new[] { CompletionDispatch.Inline, CompletionDispatch.ThreadPool })
            {
                foreach (AcceptDistribution distribution in Enum.GetValues<AcceptDistribution>())
                {
                    if (distribution == AcceptDistribution.ReusePort && !OperatingSystem.IsLinux())
                    {
                        continue;
                    }

                    string suffix = distribution switch
                    {
                        AcceptDistribution.RoundRobin => "rr",
                        AcceptDistribution.LeastLoaded => "least",
                        AcceptDistribution.ReusePort => "reuseport",
                        _ => distribution.ToString().ToLowerInvariant(),
                    };
                    string dispatchPart = dispatch == CompletionDispatch.Inline ? "/inline" : string.Empty;
                    servers.Add(baseSpec with
                    {
                        Name = $"{baseSpec.Name}{dispatchPart}/{groupLoops}-loops-{suffix}",
                        Dispatch = dispatch,
                        Loops = groupLoops,
                        Distribution = distribution,
                        FullProfileOnly = baseSpec != defaultBackend || dispatch != CompletionDispatch.Inline || distribution == AcceptDistribution.LeastLoaded,
                        Description = $"Proactor {baseSpec.Name}, main + sub loops: {groupLoops} engines, connections spread {DescribeDistribution(distribution)}, {DescribeDispatch(dispatch)}",
                    });
                }
            }
        }

        servers.AddRange(ReactorEchoServer.Specs(servers.ToArray()));
        servers.Add(Sockets);
        servers.Add(Blocking);
        return new Catalog(servers, unavailable, defaultBackend);
    }

    private static string DescribeDispatch(CompletionDispatch dispatch) => dispatch switch
    {
        CompletionDispatch.ThreadPool => "continuations dispatched to the thread pool",
        CompletionDispatch.Inline => "continuations inline on the loop thread",
        CompletionDispatch.Queue => "no awaits: the echo is driven by the engine's completion queue",
        _ => $"dispatch {dispatch}",
    };

    private static string DescribeDistribution(AcceptDistribution distribution) => distribution switch
    {
        AcceptDistribution.RoundRobin => "round robin from one listener",
        AcceptDistribution.LeastLoaded => "to the least-loaded loop",
        AcceptDistribution.ReusePort => "by the kernel over one SO_REUSEPORT listener per loop",
        _ => distribution.ToString(),
    };

    public static ServerSpec Sockets { get; } = new()
    {
        Name = "sockets",
        Kind = ServerKind.Sockets,
        Description = "System.Net.Sockets async (Socket.ReceiveAsync/SendAsync): the baseline",
    };

    public static ServerSpec Blocking { get; } = new()
    {
        Name = "blocking",
        Kind = ServerKind.Blocking,
        Description = "one thread per connection, blocking Receive/Send",
    };

    /// <summary>Creates and disposes an engine. A backend that falls back to another one (io_uring
    /// refused by the kernel) counts as unavailable: its figures would be the fallback's.</summary>
    internal static bool TryProbe(EngineOptions options, out string? name, out BackendKind actual, out string? reason)
    {
        name = null;
        reason = null;
        actual = options.Backend;
        try
        {
            // Quiet: a refused backend is listed as unavailable with its reason, not warned about.
            using ProactorEngine engine = EngineFactory.Create(options with { Warning = static _ => { } });
            name = engine.Name;
            actual = engine.Backend;
            if (engine.FallbackReason is { } why && options.Backend != BackendKind.Default)
            {
                reason = $"falls back to {engine.Name}: {why}";
                return false;
            }

            if (options.Backend != BackendKind.Default && engine.Backend != options.Backend)
            {
                reason = $"runs as {engine.Name}";
                return false;
            }

            return true;
        }
        catch (Exception e)
        {
            // NotSupportedException / PlatformNotSupportedException by contract; anything else a
            // backend throws while starting (a refused ring setup) also means "not here".
            reason = e.Message;
            return false;
        }
    }
}
