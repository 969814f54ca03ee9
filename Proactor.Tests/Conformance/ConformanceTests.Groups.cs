using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    private ProactorEngineGroup CreateGroup(int loops, CompletionDispatch dispatch) =>
        new(Enumerable.Range(0, loops).Select(_ => CreateVariant(o => o with { Dispatch = dispatch })).ToList());

    [TestCase(AcceptDistribution.RoundRobin)]
    [TestCase(AcceptDistribution.LeastLoaded)]
    public async Task A_group_spreads_connections_evenly_and_each_keeps_its_completions_on_one_loop(AcceptDistribution distribution)
    {
        using ProactorEngineGroup group = CreateGroup(2, CompletionDispatch.Inline);
        using GroupListener listener = group.Listen(new IPEndPoint(IPAddress.Loopback, 0), distribution);
        const int Connections = 8;
        var clients = new List<ProactorSocket>();
        var servers = new List<ProactorSocket>();
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
                clients.Add(client);
                ValueTask<ProactorSocket> accept = listener.AcceptAsync();
                await client.ConnectAsync(listener.LocalEndPoint).Timeout();
                servers.Add(await accept.Timeout());
            }

            int[] perLoop = group.Engines.Select(e => servers.Count(s => s.Engine == e)).ToArray();
            Assert.That(perLoop, Is.EqualTo(new[] { Connections / 2, Connections / 2 }), "connections per loop");

            // Every completion of a connection runs on the thread of the loop that owns it.
            for (int i = 0; i < Connections; i++)
            {
                int[] threads = await CompletionThreadsAsync(servers[i], clients[i], rounds: 3).Timeout();
                Assert.That(threads.Distinct().Count(), Is.EqualTo(1), $"connection {i} ran on threads {string.Join(",", threads)}");
            }
        }
        finally
        {
            foreach (ProactorSocket s in clients.Concat(servers))
            {
                s.Dispose();
            }
        }

        static async Task<int[]> CompletionThreadsAsync(ProactorSocket server, ProactorSocket client, int rounds)
        {
            var threads = new int[rounds];
            for (int r = 0; r < rounds; r++)
            {
                ValueTask<int> receive = server.ReceiveAsync(new byte[1]);
                _ = Task.Run(async () =>
                {
                    await Task.Delay(15); // so the receive is still pending when awaited below
                    await client.SendAsync(new byte[] { 1 });
                });
                await receive;
                Assert.That(server.Engine.IsEngineThread, Is.True, "completion ran off the connection's loop");
                threads[r] = Environment.CurrentManagedThreadId;
                await Task.Yield();
            }

            return threads;
        }
    }

    [Test]
    public async Task With_ReusePort_every_loop_owns_a_listener_and_the_kernel_spreads_connections()
    {
        using ProactorEngineGroup group = CreateGroup(2, CompletionDispatch.ThreadPool);
        if (!OperatingSystem.IsLinux())
        {
            // Only Linux balances SO_REUSEPORT listeners; elsewhere the group says so at once.
            Assert.Throws<PlatformNotSupportedException>(() => group.Listen(new IPEndPoint(IPAddress.Loopback, 0), AcceptDistribution.ReusePort));
            return;
        }

        using GroupListener listener = group.Listen(new IPEndPoint(IPAddress.Loopback, 0), AcceptDistribution.ReusePort);
        Assert.That(listener.Sockets, Has.Count.EqualTo(2));
        Assert.That(listener.Sockets.Select(s => ((IPEndPoint)s.LocalEndPoint!).Port).Distinct().Count(), Is.EqualTo(1), "all listeners share one port");

        const int Connections = 40; // all on one listener by chance: probability 2^-39
        var sockets = new List<ProactorSocket>();
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
                sockets.Add(client);
                await client.ConnectAsync(listener.LocalEndPoint).Timeout();
            }

            var accepted = new List<ProactorSocket>();
            for (int i = 0; i < Connections; i++)
            {
                accepted.Add(await listener.AcceptAsync().Timeout());
            }

            sockets.AddRange(accepted);
            int[] perLoop = group.Engines.Select(e => accepted.Count(s => s.Engine == e)).ToArray();
            Assert.That(perLoop.Sum(), Is.EqualTo(Connections));
            Assert.That(perLoop, Is.All.GreaterThan(0), $"connections per loop: {string.Join(",", perLoop)}");
        }
        finally
        {
            foreach (ProactorSocket s in sockets)
            {
                s.Dispose();
            }
        }
    }
}
