using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    /// <summary>What an idle accepted connection may cost the managed heap: its socket objects, the
    /// registration and the one pending receive (measured as live bytes: 444 on epoll, 532 on poll
    /// and 537 on select, which also keep a polling-table entry, 583 on io_uring), with 5-15 % room.
    /// A runtime Socket made for every accepted connection (with its handle, end points and async
    /// context), an operation object kept per direction, or a receive buffer per socket goes past it.</summary>
    private int IdleConnectionManagedBytesBound => Engine.Backend switch
    {
        BackendKind.Epoll => 470,
        BackendKind.IoUring => 670,
        _ => 590,
    };

    /// <summary>
    /// Issue 11's idle goal, in the library's part: connections accepted, each echoed once, then
    /// left waiting with a zero-byte receive hold no buffer and little else. Measured as the growth
    /// of the managed heap (after full collections) between "the clients are connected, nothing
    /// accepted yet" and "every connection accepted, echoed and waiting", divided by the count. The
    /// clients use blocking calls only, so they have no runtime async state that would count here.
    /// </summary>
    [Test]
    public async Task An_idle_connection_echoed_once_costs_the_managed_heap_at_most_670_bytes()
    {
        if (Engine.Backend is not (BackendKind.Epoll or BackendKind.Poll or BackendKind.Select or BackendKind.IoUring))
        {
            Assert.Ignore("The bound is measured for the Linux backends.");
        }

        int count = 2000;
        if (Engine.Backend == BackendKind.Select)
        {
            // select watches only descriptors below FD_SETSIZE (1024), and this process already
            // holds some (about 300 in a full run): two per connection must fit below. The count is
            // fixed rather than "as many as fit", because the polling table's arrays double in
            // size, so what a connection costs on average moves with the count (541 live bytes at
            // 334 connections, 572 at 260, just past a doubling, 537 at 200).
            int held = System.IO.Directory.GetFiles("/proc/self/fd").Length;
            count = Math.Min(200, Math.Max(64, (1024 - held - 64) / 2));
        }

        using ProactorSocket listener = Net.Listen(Engine, backlog: count);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        var clients = new Socket[count];
        var servers = new ProactorSocket?[count];
        var waits = new ValueTask<int>[count];
        byte[] message = new byte[64];
        byte[] echo = new byte[64];
        byte[] serverBuffer = new byte[64];
        try
        {
            for (int i = 0; i < count; i++)
            {
                clients[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
                {
                    ReceiveTimeout = (int)Net.StepTimeout.TotalMilliseconds,
                };
                clients[i].Connect(endPoint); // blocking: the kernel's backlog holds it until accepted
            }

            // One echo first, so code paths, pools and the test's own async state exist before the baseline.
            ProactorSocket first = await listener.AcceptAsync().AsTask().Timeout();
            servers[0] = first;
            await EchoOnceAsync(0);
            await Task.Yield();

            long before = LiveBytes();
            for (int i = 1; i < count; i++)
            {
                servers[i] = await listener.AcceptAsync().AsTask().Timeout();
                await EchoOnceAsync(i);
            }

            long after = LiveBytes();
            double perConnection = (double)(after - before) / (count - 1);
            TestContext.Out.WriteLine($"{Engine.Name}: {count - 1} idle connections, {perConnection:0} bytes of managed heap each");
            for (int i = 0; i < count; i++)
            {
                Assert.That(waits[i].IsCompleted, Is.False, $"connection {i}'s zero-byte receive completed with no data sent");
            }

            Assert.That(perConnection, Is.LessThanOrEqualTo(IdleConnectionManagedBytesBound),
                "an idle connection holds more than its socket objects, registration and one pending receive");

            // The waits are real: each peer's close ends its receive with 0.
            for (int i = 0; i < count; i++)
            {
                clients[i].Dispose();
            }

            for (int i = 0; i < count; i++)
            {
                Assert.That(await waits[i].AsTask().Timeout(), Is.EqualTo(0));
            }
        }
        finally
        {
            foreach (Socket? client in clients)
            {
                client?.Dispose();
            }

            foreach (ProactorSocket? server in servers)
            {
                server?.Dispose();
            }
        }

        // The bytes a full, compacting collection found alive. GC.GetTotalMemory also counts what
        // threads have reserved to allocate from and not yet used, up to 8 KiB per thread, which
        // moved the select figure between 501 and 567 bytes per connection from run to run.
        static long LiveBytes()
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            return GC.GetGCMemoryInfo(GCKind.FullBlocking).PromotedBytes;
        }

        async Task EchoOnceAsync(int i)
        {
            BitConverter.TryWriteBytes(message, i);
            clients[i].Send(message);
            ProactorSocket server = servers[i]!;
            Assert.That(await server.ReceiveAsync(Memory<byte>.Empty).AsTask().Timeout(), Is.EqualTo(0));
            int got = 0;
            while (got < message.Length)
            {
                int n = await server.ReceiveAsync(serverBuffer.AsMemory(got)).AsTask().Timeout();
                Assert.That(n, Is.GreaterThan(0), $"connection {i} ended before its message arrived");
                got += n;
            }

            await server.SendAsync(serverBuffer).AsTask().Timeout();
            got = 0;
            while (got < echo.Length)
            {
                got += clients[i].Receive(echo, got, echo.Length - got, SocketFlags.None);
            }

            Assert.That(echo, Is.EqualTo(message), $"connection {i}'s echo");
            waits[i] = server.ReceiveAsync(Memory<byte>.Empty);
        }
    }

    /// <summary>
    /// Closed connections leave nothing behind: once a burst of connections has been served and
    /// closed, their <see cref="ProactorSocket"/>s are no longer reachable from the engine. Engines
    /// whose sockets share idle operation objects keep those objects for reuse; an idle object
    /// that remembered its last socket kept a burst of closed connections alive (about a third of
    /// 9 000 in the bench's echo server, with everything each socket references) until each object
    /// happened to be used again.
    /// </summary>
    /// <remarks>
    /// One more connection is served after the burst, untracked, so that what holds only the
    /// latest completion lets go of the burst: a first version of this test, serving connections
    /// one at a time with none after them, found one socket of 64 reachable on every Windows
    /// fixture under Wine (IOCP and the managed backend alike, whose operations are not shared). Objects kept for reuse still hold theirs: with the owner kept, 63 of 64 stayed
    /// reachable on each Linux fixture that shares operations.
    /// </remarks>
    [Test]
    public async Task A_burst_of_closed_connections_is_not_kept_alive_by_the_engine()
    {
        const int count = 64;
        using ProactorSocket listener = Net.Listen(Engine, backlog: count);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        List<WeakReference> sockets = await ServeConnectionsAsync(listener, endPoint, count);
        await ServeConnectionsAsync(listener, endPoint, 1);

        // A backend may finish a close on its loop thread: give it time, collecting meanwhile.
        int alive = sockets.Count;
        for (int attempt = 0; attempt < 50 && alive > 0; attempt++)
        {
            await Task.Delay(attempt == 0 ? 0 : 20);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            alive = sockets.Count(w => w.IsAlive);
        }

        Assert.That(alive, Is.Zero,
            $"of {count} closed sockets, {sockets.Where((_, i) => i % 2 == 0).Count(w => w.IsAlive)} still reachable, " +
            $"and {sockets.Where((_, i) => i % 2 == 1).Count(w => w.IsAlive)} of their backend sockets");
    }

    /// <summary>
    /// The engine's idle operation objects are bounded by its open sockets now, not by the most it
    /// ever had: after a burst of connections has closed, the next connection's operations let the
    /// burst's objects go (they kept 2 objects per closed connection reachable, ~250 bytes each on
    /// io_uring, for as long as the engine lived).
    /// </summary>
    [Test]
    public async Task Idle_operation_objects_shrink_back_after_a_burst_of_connections_closed()
    {
        const int burst = 300;
        using ProactorSocket listener = Net.Listen(Engine, backlog: burst);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        await ServeConnectionsAsync(listener, endPoint, burst);
        int afterBurst = Engine.IdleOperations.Count;
        await ServeConnectionsAsync(listener, endPoint, 1);

        int bound = Math.Max(OperationPool.MinimumCapacity, 2 * Engine.SocketCount);
        TestContext.Out.WriteLine($"{Engine.Name}: {afterBurst} idle operation objects after the burst closed, {Engine.IdleOperations.Count} after one more connection (bound {bound})");
        Assert.That(Engine.IdleOperations.Count, Is.LessThanOrEqualTo(bound));
    }

    /// <summary>Accepts <paramref name="count"/> connections, all open at once, echoes one message
    /// through each, waits on each with a zero-byte receive until its peer closes, closes them, and
    /// returns weak references to the server sockets.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<List<WeakReference>> ServeConnectionsAsync(ProactorSocket listener, IPEndPoint endPoint, int count)
    {
        var clients = new List<Socket>();
        var servers = new List<ProactorSocket>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
                {
                    ReceiveTimeout = (int)Net.StepTimeout.TotalMilliseconds,
                };
                clients.Add(client);
                client.Connect(endPoint);
                servers.Add(await listener.AcceptAsync().AsTask().Timeout());
            }

            var waits = new List<Task<int>>();
            byte[] buffer = new byte[16];
            for (int i = 0; i < count; i++)
            {
                byte[] message = BitConverter.GetBytes(i);
                clients[i].Send(message);
                int n = await servers[i].ReceiveAsync(buffer).AsTask().Timeout();
                Assert.That(buffer.AsSpan(0, n).ToArray(), Is.EqualTo(message.AsSpan(0, n).ToArray()), $"connection {i}'s bytes");
                await servers[i].SendAsync(buffer.AsMemory(0, n)).AsTask().Timeout();
                Assert.That(clients[i].Receive(new byte[16]), Is.EqualTo(n), $"connection {i}'s echo");
                waits.Add(servers[i].ReceiveAsync(Memory<byte>.Empty).AsTask());
            }

            foreach (Socket client in clients)
            {
                client.Shutdown(SocketShutdown.Send);
            }

            for (int i = 0; i < count; i++)
            {
                Assert.That(await waits[i].Timeout(), Is.Zero, $"connection {i}'s wait ends when the peer closes");
            }

            // The sockets and their backend halves: an object kept for reuse must hold neither.
            return servers.SelectMany(s => new[] { new WeakReference(s), new WeakReference(s.EngineSocket) }).ToList();
        }
        finally
        {
            servers.ForEach(s => s.Dispose());
            clients.ForEach(c => c.Dispose());
        }
    }
}
