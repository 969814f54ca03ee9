using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using Proactor.Bench.Cli;

namespace Proactor.Bench.Micro;

/// <summary>The engine variants the micro-benchmarks run on: every backend available here
/// (found the same way the comparison finds them), level-triggered epoll, and inline dispatch.</summary>
internal static class MicroBackends
{
    private static readonly Lazy<IReadOnlyList<(string Name, EngineOptions Options)>> s_available = new(Discover);

    public static IEnumerable<string> Names() => s_available.Value.Select(v => v.Name);

    public static ProactorEngine Create(string name)
    {
        foreach ((string n, EngineOptions options) in s_available.Value)
        {
            if (n == name)
            {
                return EngineFactory.Create(options);
            }
        }

        throw new UsageException($"micro: backend '{name}' is not available here.");
    }

    private static List<(string, EngineOptions)> Discover()
    {
        var list = new List<(string, EngineOptions)>();
        foreach (BackendKind backend in Enum.GetValues<BackendKind>())
        {
            if (backend == BackendKind.Default)
            {
                continue;
            }

            foreach (bool lt in backend == BackendKind.Epoll ? new[] { false, true } : [false])
            {
                foreach (CompletionDispatch dispatch in new[] { CompletionDispatch.ThreadPool, CompletionDispatch.Inline })
                {
                    var options = new EngineOptions { Backend = backend, EpollLevelTriggered = lt, Dispatch = dispatch, Warning = static _ => { } };
                    try
                    {
                        using ProactorEngine engine = EngineFactory.Create(options);
                        if (engine.Backend != backend || engine.FallbackReason is not null)
                        {
                            continue;
                        }

                        list.Add((dispatch == CompletionDispatch.ThreadPool ? engine.Name : engine.Name + "/inline", options));
                    }
                    catch (Exception)
                    {
                        // not available on this machine
                    }
                }
            }
        }

        return list;
    }

    /// <summary>A connected loopback pair on <paramref name="engine"/>: (client, server side).</summary>
    public static (ProactorSocket Client, ProactorSocket Server) ConnectedPair(ProactorEngine engine)
    {
        using ProactorSocket listener = ProactorSocket.CreateListener(engine, new IPEndPoint(IPAddress.Loopback, 0));
        var client = new ProactorSocket(engine, AddressFamily.InterNetwork);
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        client.ConnectAsync(listener.LocalEndPoint!).AsTask().Wait(TimeSpan.FromSeconds(10));
        ProactorSocket server = accept.AsTask().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        client.NoDelay = true;
        server.NoDelay = true;
        return (client, server);
    }

    /// <summary>A plain blocking System.Net.Sockets peer connected to a Proactor socket on <paramref name="engine"/>.</summary>
    public static (Socket Peer, ProactorSocket Server) PeerPair(ProactorEngine engine)
    {
        using ProactorSocket listener = ProactorSocket.CreateListener(engine, new IPEndPoint(IPAddress.Loopback, 0));
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        peer.Connect(listener.LocalEndPoint!);
        ProactorSocket server = accept.AsTask().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        server.NoDelay = true;
        return (peer, server);
    }
}
