using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Linux;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Linux;

/// <summary>
/// select(2) can watch only descriptors below FD_SETSIZE (1024): the select backend must refuse a
/// higher one with an error that says so, never set a bit outside its fd_set, and go on serving.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[SupportedOSPlatform("linux")]
[NonParallelizable] // holds ~1000 descriptors: no other test may open or close any meanwhile
public sealed class SelectLimitTests
{
    private const int FdSetSize = 1024;

    [Test]
    public async Task A_socket_beyond_FD_SETSIZE_is_refused_clearly_and_the_engine_keeps_serving()
    {
        SettleFinalizers();
        using ProactorEngine engine = EngineFactory.Create(new EngineOptions { Backend = BackendKind.Select });
        var emulated = (EmulatedEngine<SelectDemultiplexer>)engine;
        using ProactorSocket listener = Net.Listen(engine); // a low descriptor, registered before the filling
        IReadOnlyDictionary<string, string> before = DescriptorCount.Snapshot();

        var held = new List<Socket>();
        try
        {
            // A new socket: its descriptor is the lowest free one, now at or above the limit.
            SocketException refused = await UntilRefusedAsync(held, () => Task.FromResult(new ProactorSocket(engine, AddressFamily.InterNetwork)));
            Assert.That(refused.SocketErrorCode, Is.EqualTo(SocketError.TooManyOpenSockets));
            Assert.That(refused.Message, Does.Contain("FD_SETSIZE (1024)").And.Contain("BackendKind.Epoll"));

            // An accepted connection: the loop thread accepts it, cannot register it, and fails the
            // accept (closing the connection) instead of failing itself. The refused connection
            // was closed, so the peer sees its end.
            SocketException acceptError = await UntilRefusedAsync(held, async () =>
            {
                ValueTask<ProactorSocket> accept = listener.AcceptAsync();
                using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await client.ConnectAsync(listener.LocalEndPoint!).Timeout();
                try
                {
                    return await accept.Timeout();
                }
                catch (SocketException)
                {
                    int n = await client.ReceiveAsync(new byte[1]).Timeout();
                    Assert.That(n, Is.Zero, "the peer of a refused connection sees its end");
                    throw;
                }
            });
            Assert.That(acceptError.SocketErrorCode, Is.EqualTo(SocketError.TooManyOpenSockets));
            Assert.That(acceptError.Message, Does.Contain("FD_SETSIZE (1024)").And.Contain("BackendKind.Epoll"),
                "the same explanation as when a socket is created");
        }
        finally
        {
            foreach (Socket s in held)
            {
                s.Dispose();
            }
        }

        // Nothing leaked: neither the refused sockets' descriptors nor their registrations.
        IReadOnlyDictionary<string, string> after = DescriptorCount.Snapshot();
        Assert.That(after.Count, Is.LessThanOrEqualTo(before.Count),
            $"descriptors leaked: {DescriptorCount.Describe(before, after)}");
        Assert.That(emulated.RegisteredSocketCount, Is.EqualTo(1), "only the listener is registered");
        Assert.That(engine.SocketCount, Is.EqualTo(1), "only the listener is open");

        // Low descriptors again: the same engine serves a connection end to end.
        var (client2, server2) = await Net.ConnectedPairAsync(engine);
        using (client2)
        using (server2)
        {
            Assert.That((int)client2.SafeHandle.DangerousGetHandle(), Is.LessThan(FdSetSize));
            byte[] data = Net.Pattern(100_000, seed: 5);
            Task send = client2.SendAsync(data).Timeout();
            byte[] received = new byte[data.Length];
            await Net.ReceiveExactlyAsync(server2, received).Timeout();
            await send;
            Assert.That(received, Is.EqualTo(data));
        }
    }

    [Test]
    public void Creating_a_select_engine_with_no_descriptor_below_FD_SETSIZE_free_fails_clearly_and_leaks_nothing()
    {
        SettleFinalizers();
        IReadOnlyDictionary<string, string> before = DescriptorCount.Snapshot();
        List<Socket> held = HoldEveryDescriptorBelow(FdSetSize);
        SocketException? refused;
        try
        {
            // The engine's own wake descriptor is the first registration, and it lands beyond the set.
            refused = Assert.Throws<SocketException>(() => EngineFactory.Create(new EngineOptions { Backend = BackendKind.Select }).Dispose());
        }
        finally
        {
            foreach (Socket s in held)
            {
                s.Dispose();
            }
        }

        Assert.That(refused?.Message, Does.Contain("FD_SETSIZE (1024)").And.Contain("BackendKind.Epoll"));
        IReadOnlyDictionary<string, string> after = DescriptorCount.Snapshot();
        Assert.That(after.Count, Is.LessThanOrEqualTo(before.Count),
            $"descriptors leaked: {DescriptorCount.Describe(before, after)}");
    }

    /// <summary>
    /// Another thread of this process may close a descriptor below the limit at any moment (a
    /// finalizer closing what an earlier test leaked, the test platform's own files), and the
    /// kernel then hands that number to the next socket, legitimately. So each try first fills
    /// every free descriptor below the limit again (into <paramref name="held"/>), then runs
    /// <paramref name="open"/>, which must be refused. A try that succeeds must have got a
    /// descriptor below the limit (one freed meanwhile); the socket is closed and the next try
    /// starts. Returns the refusal.
    /// </summary>
    private static async Task<SocketException> UntilRefusedAsync(List<Socket> held, Func<Task<ProactorSocket>> open)
    {
        const int Tries = 5;
        for (int attempt = 1; ; attempt++)
        {
            held.AddRange(HoldEveryDescriptorBelow(FdSetSize));
            try
            {
                using ProactorSocket opened = await open();
                int fd = (int)opened.SafeHandle.DangerousGetHandle();
                Assert.That(fd, Is.LessThan(FdSetSize), "the select backend took a socket at or above FD_SETSIZE");
                TestContext.Out.WriteLine($"try {attempt}: descriptor {fd} was freed by another thread meanwhile; filling again");
            }
            catch (SocketException e)
            {
                return e;
            }

            Assert.That(attempt, Is.LessThan(Tries), $"{Tries} tries, each got a descriptor below the limit that another thread had freed");
        }
    }

    /// <summary>Runs the finalizers of what earlier tests left to the GC, so that they close
    /// their descriptors now rather than while this test holds every low number.</summary>
    private static void SettleFinalizers()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>
    /// Opens sockets until one gets a descriptor at or above <paramref name="limit"/>. The kernel
    /// hands out the lowest free number, so at that point every descriptor below the limit is in
    /// use and the next one opened lands beyond it.
    /// </summary>
    private static List<Socket> HoldEveryDescriptorBelow(int limit)
    {
        var held = new List<Socket>(limit + 8);
        try
        {
            while (true)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                held.Add(s);
                if ((int)s.Handle >= limit)
                {
                    return held;
                }

                if (held.Count > limit * 2)
                {
                    throw new InvalidOperationException($"Opened {held.Count} sockets without reaching descriptor {limit}.");
                }
            }
        }
        catch
        {
            foreach (Socket s in held)
            {
                s.Dispose();
            }

            throw;
        }
    }
}
