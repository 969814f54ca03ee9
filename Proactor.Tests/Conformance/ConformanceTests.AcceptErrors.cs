using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>
/// Accept when things go wrong: a connection reset while it waits in the backlog, a listener
/// disposed under a pending accept, a group listener whose accepts fail, and a slow acceptor.
/// </summary>
public abstract partial class ConformanceTests
{
    private ProactorEngineGroup CreateGroupWith(int loops, Func<EngineOptions, EngineOptions> change) =>
        new(Enumerable.Range(0, loops).Select(_ => CreateVariant(change)).ToList());

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        long deadline = Environment.TickCount64 + (long)Net.StepTimeout.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"timed out waiting until {what}");
            }

            await Task.Delay(10);
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_connection_reset_in_the_backlog_neither_fails_accept_nor_stops_the_next_client(bool throughGroup)
    {
        using ProactorEngineGroup? group = throughGroup ? CreateGroupWith(2, o => o) : null;
        using GroupListener? groupListener = group?.Listen(new IPEndPoint(IPAddress.Loopback, 0));
        using ProactorSocket? listener = throughGroup ? null : Net.Listen(Engine);
        IPEndPoint endPoint = groupListener?.LocalEndPoint ?? (IPEndPoint)listener!.LocalEndPoint!;

        // Connected in the kernel, then reset before anyone accepted it.
        using (var doomed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await doomed.ConnectAsync(endPoint).WaitAsync(Net.StepTimeout);
            doomed.LingerState = new LingerOption(true, 0);
        }

        using var good = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await good.ConnectAsync(endPoint).WaitAsync(Net.StepTimeout);
        Assert.That(await good.SendAsync(new byte[] { 0x42 }).WaitAsync(Net.StepTimeout), Is.EqualTo(1));

        var accepted = new List<ProactorSocket>();
        try
        {
            bool served = false;
            while (!served)
            {
                Assert.That(accepted, Has.Count.LessThan(2), "two connections accepted and neither was the good client");

                // Must not fail: the reset connection is either handed out or skipped.
                ProactorSocket connection = groupListener is not null
                    ? await groupListener.AcceptAsync().Timeout()
                    : await listener!.AcceptAsync().Timeout();
                accepted.Add(connection);

                byte[] first = new byte[1];
                int received;
                try
                {
                    received = await connection.ReceiveAsync(first).Timeout();
                }
                catch (SocketException e)
                {
                    Assert.That(e.SocketErrorCode, Is.EqualTo(SocketError.ConnectionReset), "the reset connection's first receive");
                    TestContext.Out.WriteLine("the reset connection was accepted; its first receive reported ConnectionReset");
                    continue;
                }

                if (received == 0)
                {
                    TestContext.Out.WriteLine("the reset connection was accepted; its first receive reported the end of stream");
                    continue;
                }

                Assert.That(first[0], Is.EqualTo(0x42), "the good client's byte");
                Assert.That(await connection.SendAsync(new byte[] { 0x43 }).Timeout(), Is.EqualTo(1));
                served = true;
            }

            byte[] reply = new byte[1];
            Assert.That(await good.ReceiveAsync(reply).WaitAsync(Net.StepTimeout), Is.EqualTo(1));
            Assert.That(reply[0], Is.EqualTo(0x43), "the good client was served");
        }
        finally
        {
            foreach (ProactorSocket s in accepted)
            {
                s.Dispose();
            }
        }
    }

    [Test]
    public async Task Disposing_a_listener_with_a_pending_accept_completes_it_once_with_OperationAborted()
    {
        int socketsBefore = Engine.SocketCount;

        // The awaitable form.
        ProactorSocket listener = Net.Listen(Engine);
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        Assert.That(accept.IsCompleted, Is.False, "nobody connected, so the accept must be pending");
        listener.Dispose();
        var e = await Expect.ThrowsAsync<SocketException>(async () => await accept.Timeout());
        Assert.That(e.SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));

        // The completion-queue form, where a second completion of the same accept would show.
        CompletionQueue queue = Engine.CreateCompletionQueue();
        listener = Net.Listen(Engine);
        queue.SubmitAccept(listener, userToken: "accept");
        await Task.Delay(20); // let it reach the loop (or the kernel) before the close
        listener.Dispose();
        Completion c = await queue.Reader.ReadAsync().Timeout();
        Assert.That((c.Kind, c.Error, c.UserToken, c.AcceptedSocket), Is.EqualTo((OperationKind.Accept, SocketError.OperationAborted, (object)"accept", (ProactorSocket?)null)));
        await Task.Delay(100);
        Assert.That(queue.Reader.TryRead(out Completion extra), Is.False, $"a second completion: {extra}");

        Assert.That(Engine.SocketCount, Is.EqualTo(socketsBefore), "sockets still counted open");
        await AssertEngineStillEchoesAsync(); // descriptors are checked by the fixture's teardown
    }

    [Test]
    public async Task Disposing_a_listener_while_clients_connect_completes_each_accept_once_and_leaks_no_connection()
    {
        // A connection the kernel accepts at the last moment belongs to an accept that was aborted:
        // it must be closed by the engine, not leaked, and the accept still completes exactly once.
        int seed = Environment.TickCount;
        TestContext.Out.WriteLine($"seed {seed}");
        var random = new Random(seed);
        CompletionQueue queue = Engine.CreateCompletionQueue();
        const int Rounds = 40;
        int aborted = 0, succeeded = 0;
        for (int round = 0; round < Rounds; round++)
        {
            ProactorSocket listener = Net.Listen(Engine);
            queue.SubmitAccept(listener, userToken: round);
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Task connecting = client.ConnectAsync(listener.LocalEndPoint!);
            if (random.Next(2) == 0)
            {
                await Task.Delay(random.Next(3));
            }

            listener.Dispose();
            try
            {
                await connecting.WaitAsync(Net.StepTimeout);
            }
            catch (SocketException)
            {
                // refused or reset: the listener went away first
            }

            Completion c = await queue.Reader.ReadAsync().Timeout();
            Assert.That(c.UserToken, Is.EqualTo(round), "a completion of another round: an accept completed twice");
            if (c.Error == SocketError.Success)
            {
                succeeded++;
                c.AcceptedSocket!.Dispose();
            }
            else
            {
                Assert.That(c.Error, Is.EqualTo(SocketError.OperationAborted), c.ToString());
                Assert.That(c.AcceptedSocket, Is.Null);
                aborted++;
            }
        }

        await Task.Delay(100);
        Assert.That(queue.Reader.TryRead(out Completion extra), Is.False, $"a second completion: {extra}");
        TestContext.Out.WriteLine($"{succeeded} accepted before the close, {aborted} aborted");
        await AssertEngineStillEchoesAsync(); // descriptors are checked by the fixture's teardown
    }

    [TestCase(AcceptDistribution.RoundRobin)]
    [TestCase(AcceptDistribution.LeastLoaded)]
    [TestCase(AcceptDistribution.ReusePort)]
    public async Task A_group_listener_keeps_serving_after_accept_errors_and_reports_them(AcceptDistribution distribution)
    {
        var warnings = new ConcurrentQueue<string>();
        using ProactorEngineGroup group = CreateGroupWith(2, o => o with { Warning = warnings.Enqueue });
        if (distribution == AcceptDistribution.ReusePort && !OperatingSystem.IsLinux())
        {
            Assert.Throws<PlatformNotSupportedException>(() => group.Listen(new IPEndPoint(IPAddress.Loopback, 0), distribution));
            return;
        }

        using GroupListener listener = group.Listen(new IPEndPoint(IPAddress.Loopback, 0), distribution);

        // What a server out of descriptors or buffers sees, and a connection reset in the backlog.
        SocketError[] faults = { SocketError.TooManyOpenSockets, SocketError.NoBufferSpaceAvailable, SocketError.ConnectionReset, SocketError.TooManyOpenSockets };
        int next = -1;
        listener.AcceptFault = () =>
        {
            int i = Interlocked.Increment(ref next);
            return i < faults.Length ? faults[i] : SocketError.Success;
        };

        var sockets = new List<ProactorSocket>();
        try
        {
            async Task ServeOneAsync(byte value)
            {
                var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
                sockets.Add(client);
                await client.ConnectAsync(listener.LocalEndPoint).Timeout();
                ProactorSocket server = await listener.AcceptAsync().Timeout();
                sockets.Add(server);
                Assert.That(await client.SendAsync(new[] { value }).Timeout(), Is.EqualTo(1));
                byte[] got = new byte[1];
                await Net.ReceiveExactlyAsync(server, got);
                Assert.That(await server.SendAsync(got).Timeout(), Is.EqualTo(1));
                await Net.ReceiveExactlyAsync(client, got);
                Assert.That(got[0], Is.EqualTo(value));
            }

            for (byte i = 0; i < 4; i++)
            {
                await ServeOneAsync(i);
            }

            // With ReusePort a loop may still be backing off: every fault is retried in the end.
            await WaitUntilAsync(() => listener.AcceptErrorCount == faults.Length, $"{faults.Length} accept errors were retried (now {listener.AcceptErrorCount})");
            await ServeOneAsync(100);
            await ServeOneAsync(101);

            Assert.That(listener.AcceptErrorCount, Is.EqualTo(faults.Length));
            Assert.That(warnings, Has.Some.Contains(nameof(SocketError.TooManyOpenSockets)), "the error was reported");
        }
        finally
        {
            foreach (ProactorSocket s in sockets)
            {
                s.Dispose();
            }
        }
    }

    [Test]
    public async Task A_ReusePort_group_listener_accepts_no_further_than_its_queue_limit_ahead_of_the_caller()
    {
        using ProactorEngineGroup group = CreateGroupWith(2, o => o);
        if (!OperatingSystem.IsLinux())
        {
            Assert.Throws<PlatformNotSupportedException>(() => group.Listen(new IPEndPoint(IPAddress.Loopback, 0), AcceptDistribution.ReusePort));
            return; // only Linux balances SO_REUSEPORT listeners
        }

        using GroupListener listener = group.Listen(new IPEndPoint(IPAddress.Loopback, 0), AcceptDistribution.ReusePort, backlog: 512);
        int Accepted() => group.Engines.Sum(e => e.SocketCount) - listener.Sockets.Count;

        const int Clients = GroupListener.AcceptedQueueLimit + 40;
        var sockets = new List<ProactorSocket>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
                sockets.Add(client);
                await client.ConnectAsync(listener.LocalEndPoint).Timeout(); // completes in the kernel's backlog
            }

            await WaitUntilAsync(() => Accepted() >= GroupListener.AcceptedQueueLimit, $"the loops filled the accept queue (now {Accepted()})");
            await Task.Delay(300); // room for an unbounded loop to go on; a bounded one has stopped
            Assert.That(Accepted(), Is.LessThanOrEqualTo(GroupListener.AcceptedQueueLimit + group.Engines.Count),
                "connections accepted ahead of the caller (the queue limit plus one in hand per loop)");

            // The rest were waiting in the backlog and come as the caller takes connections.
            var servers = new List<ProactorSocket>();
            for (int i = 0; i < Clients; i++)
            {
                servers.Add(await listener.AcceptAsync().Timeout());
            }

            sockets.AddRange(servers);
            Assert.That(servers.Distinct().Count(), Is.EqualTo(Clients));
        }
        finally
        {
            foreach (ProactorSocket s in sockets)
            {
                s.Dispose();
            }
        }
    }

    [TestCase(AcceptDistribution.RoundRobin)]
    [TestCase(AcceptDistribution.ReusePort)]
    public async Task Disposing_a_group_listener_ends_a_pending_accept_and_closes_connections_not_yet_handed_out(AcceptDistribution distribution)
    {
        using ProactorEngineGroup group = CreateGroupWith(2, o => o);
        if (distribution == AcceptDistribution.ReusePort && !OperatingSystem.IsLinux())
        {
            Assert.Throws<PlatformNotSupportedException>(() => group.Listen(new IPEndPoint(IPAddress.Loopback, 0), distribution));
            return; // only Linux balances SO_REUSEPORT listeners
        }

        GroupListener listener = group.Listen(new IPEndPoint(IPAddress.Loopback, 0), distribution);
        ValueTask<ProactorSocket> pending = listener.AcceptAsync();
        Assert.That(pending.IsCompleted, Is.False);
        listener.Dispose();
        var e = await Expect.ThrowsAsync<SocketException>(async () => await pending.Timeout());
        Assert.That(e.SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));
        Assert.Throws<ObjectDisposedException>(() => listener.AcceptAsync());

        // Connections the loops took but nobody asked for yet close with the listener.
        listener = group.Listen(new IPEndPoint(IPAddress.Loopback, 0), distribution);
        var clients = new List<ProactorSocket>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
                clients.Add(client);
                await client.ConnectAsync(listener.LocalEndPoint).Timeout();
            }

            if (distribution == AcceptDistribution.ReusePort)
            {
                await WaitUntilAsync(() => group.Engines.Sum(x => x.SocketCount) == listener.Sockets.Count + 3, "the loops accepted the clients");
            }

            listener.Dispose();
            await WaitUntilAsync(() => group.Engines.Sum(x => x.SocketCount) == 0, "no socket is left open on the group's loops");
            foreach (ProactorSocket client in clients)
            {
                int n;
                try
                {
                    n = await client.ReceiveAsync(new byte[1]).Timeout();
                }
                catch (SocketException x) when (x.SocketErrorCode == SocketError.ConnectionReset)
                {
                    n = 0;
                }

                Assert.That(n, Is.Zero, "the client's connection was closed");
            }
        }
        finally
        {
            foreach (ProactorSocket s in clients)
            {
                s.Dispose();
            }
        }
    }
}
