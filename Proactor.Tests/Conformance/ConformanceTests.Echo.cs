using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    [TestCase(AddressFamily.InterNetwork)]
    [TestCase(AddressFamily.InterNetworkV6)]
    public async Task Echo_of_a_small_message_returns_the_same_bytes(AddressFamily family)
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine, family);
        using (client)
        using (server)
        {
            byte[] message = Net.Pattern(100, seed: 1);
            Assert.That(await client.SendAsync(message).Timeout(), Is.EqualTo(message.Length));

            byte[] atServer = new byte[message.Length];
            await Net.ReceiveExactlyAsync(server, atServer);
            Assert.That(await server.SendAsync(atServer).Timeout(), Is.EqualTo(message.Length));

            byte[] back = new byte[message.Length];
            await Net.ReceiveExactlyAsync(client, back);
            Assert.That(back, Is.EqualTo(message));
        }
    }

    [TestCase(AddressFamily.InterNetwork)]
    [TestCase(AddressFamily.InterNetworkV6)]
    public async Task End_points_are_reported_for_both_sides(AddressFamily family)
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine, family);
        using (client)
        using (server)
        {
            var clientLocal = (IPEndPoint)client.LocalEndPoint!;
            var clientRemote = (IPEndPoint)client.RemoteEndPoint!;
            var serverLocal = (IPEndPoint)server.LocalEndPoint!;
            var serverRemote = (IPEndPoint)server.RemoteEndPoint!;
            Assert.Multiple(() =>
            {
                Assert.That(clientLocal.Address, Is.EqualTo(Net.Loopback(family)));
                Assert.That(clientRemote, Is.EqualTo(serverLocal));
                Assert.That(serverRemote, Is.EqualTo(clientLocal));
                Assert.That(clientLocal.Port, Is.Not.Zero);
            });
        }
    }

    [Test]
    public async Task An_unbound_socket_has_no_end_points()
    {
        using var socket = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        Assert.Multiple(() =>
        {
            Assert.That(socket.LocalEndPoint, Is.Null);
            Assert.That(socket.RemoteEndPoint, Is.Null);
        });
        await Task.CompletedTask;
    }

    [Test]
    public async Task Options_read_back_what_was_set()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            client.NoDelay = true;
            client.KeepAlive = true;
            Assert.Multiple(() =>
            {
                Assert.That(client.NoDelay, Is.True);
                Assert.That(client.KeepAlive, Is.True);
            });
            client.NoDelay = false;
            Assert.That(client.NoDelay, Is.False);
        }
    }

    [Test]
    public async Task Echo_of_16_MiB_arrives_complete_and_in_order()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            byte[] payload = Net.Pattern(16 * 1024 * 1024, seed: 2);

            // The server echoes what it receives until the client shuts down its sending side.
            Task echo = Task.Run(async () =>
            {
                byte[] buffer = new byte[128 * 1024];
                while (true)
                {
                    int n = await server.ReceiveAsync(buffer);
                    if (n == 0)
                    {
                        server.Shutdown(SocketShutdown.Send);
                        return;
                    }

                    await server.SendAsync(buffer.AsMemory(0, n));
                }
            });

            Task<byte[]> receive = Net.ReceiveToEndAsync(client, payload.Length);
            Assert.That(await client.SendAsync(payload).Timeout(), Is.EqualTo(payload.Length));
            client.Shutdown(SocketShutdown.Send);

            byte[] back = await receive.WaitAsync(TimeSpan.FromSeconds(60));
            await echo.Timeout();
            Assert.That(back.Length, Is.EqualTo(payload.Length));
            Assert.That(back.AsSpan().SequenceEqual(payload), Is.True, "The echoed bytes differ from the sent ones.");
        }
    }

    [Test]
    public async Task Two_hundred_concurrent_connections_each_echo_checksummed_data()
    {
        const int Connections = 200;
        const int Bytes = 32 * 1024;
        using ProactorSocket listener = Net.Listen(Engine, backlog: Connections);
        var endPoint = listener.LocalEndPoint!;

        var serverTasks = new List<Task>();
        Task acceptLoop = Task.Run(async () =>
        {
            for (int i = 0; i < Connections; i++)
            {
                ProactorSocket connection = await listener.AcceptAsync();
                lock (serverTasks)
                {
                    serverTasks.Add(EchoUntilClosedAsync(connection));
                }
            }
        });

        var clients = Enumerable.Range(0, Connections).Select(async i =>
        {
            using var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
            await client.ConnectAsync(endPoint);
            byte[] data = Net.Pattern(Bytes, seed: 1000 + i);
            Task send = client.SendAsync(data).AsTask();
            byte[] back = new byte[Bytes];
            await Net.ReceiveExactlyAsync(client, back);
            await send;
            return Checksum(back) == Checksum(data) && back.AsSpan().SequenceEqual(data);
        }).ToArray();

        bool[] results = await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(90));
        await acceptLoop.Timeout();
        Task[] servers;
        lock (serverTasks)
        {
            servers = serverTasks.ToArray();
        }

        await Task.WhenAll(servers).Timeout();
        Assert.That(results.Count(ok => ok), Is.EqualTo(Connections), "connections whose echo matched");
    }

    [Test]
    public async Task A_receive_posted_before_data_completes_when_the_data_arrives()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            byte[] buffer = new byte[64];
            ValueTask<int> receive = server.ReceiveAsync(buffer);
            await Task.Delay(50);
            Assert.That(receive.IsCompleted, Is.False, "Nothing was sent yet, so the receive must be pending.");

            byte[] message = Net.Pattern(40, seed: 3);
            await client.SendAsync(message).Timeout();
            int n = await receive.Timeout();
            Assert.That(buffer.AsSpan(0, n).ToArray(), Is.EqualTo(message[..n]));
            Assert.That(n, Is.GreaterThan(0));
        }
    }

    [Test]
    public async Task A_zero_byte_receive_waits_for_data_and_consumes_none()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            ValueTask<int> wait = server.ReceiveAsync(Memory<byte>.Empty);
            await Task.Delay(50);
            Assert.That(wait.IsCompleted, Is.False, "A zero-byte receive must wait for readability.");

            byte[] message = Net.Pattern(10, seed: 4);
            await client.SendAsync(message).Timeout();
            Assert.That(await wait.Timeout(), Is.Zero);

            // The data is still there for a real receive, filling the buffer exactly.
            byte[] buffer = new byte[message.Length];
            await Net.ReceiveExactlyAsync(server, buffer);
            Assert.That(buffer, Is.EqualTo(message));
        }
    }

    [Test]
    public async Task A_zero_byte_receive_queued_behind_a_receive_that_takes_all_the_data_keeps_waiting()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            // One readability report covers both: the first receive takes every byte, so the wait
            // behind it must not be answered by that report.
            byte[] buffer = new byte[64];
            ValueTask<int> first = server.ReceiveAsync(buffer);
            ValueTask<int> wait = server.ReceiveAsync(Memory<byte>.Empty);
            byte[] message = Net.Pattern(10, seed: 6);
            await client.SendAsync(message).Timeout();
            Assert.That(await first.Timeout(), Is.EqualTo(message.Length));
            await Task.Delay(100);
            if (wait.IsCompleted)
            {
                // Which result tells which path answered it: 0 (a readiness report or a count taken
                // as data), an error (the socket failed), or bytes.
                string result;
                try
                {
                    result = $"{await wait} bytes";
                }
                catch (Exception e)
                {
                    result = e.Message;
                }

                Assert.Fail($"No data is left: the zero-byte receive must still wait; it completed with {result}; bytes available {server.Available}.");
            }

            await client.SendAsync(new byte[] { 42 }).Timeout();
            Assert.That(await wait.Timeout(), Is.Zero);
            Assert.That(await server.ReceiveAsync(buffer).Timeout(), Is.EqualTo(1));
            Assert.That(buffer[0], Is.EqualTo(42));
        }
    }

    [Test]
    public async Task A_receive_fills_the_whole_buffer_when_enough_data_is_there()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            byte[] message = Net.Pattern(1000, seed: 5);
            await client.SendAsync(message).Timeout();
            await Task.Delay(50); // let all of it arrive

            byte[] buffer = new byte[400];
            Assert.That(await server.ReceiveAsync(buffer).Timeout(), Is.EqualTo(400));
            Assert.That(buffer, Is.EqualTo(message[..400]));
        }
    }

    [Test]
    public async Task Orderly_close_makes_a_pending_receive_return_zero()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (server)
        {
            ValueTask<int> receive = server.ReceiveAsync(new byte[16]);
            client.Shutdown(SocketShutdown.Send);
            Assert.That(await receive.Timeout(), Is.Zero);

            client.Dispose();
            Assert.That(await server.ReceiveAsync(new byte[16]).Timeout(), Is.Zero, "end of stream is sticky");
        }
    }

    [Test]
    public async Task Many_queued_sends_arrive_in_submission_order()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            client.SendBufferSize = 8 * 1024; // make later sends queue behind earlier ones
            const int Count = 200;
            const int Size = 16 * 1024;
            Task<byte[]> receive = Net.ReceiveToEndAsync(server, Count * Size);

            var sends = new Task<int>[Count];
            for (int i = 0; i < Count; i++)
            {
                sends[i] = client.SendAsync(Net.Pattern(Size, seed: 100 + i)).AsTask();
            }

            int[] sent = await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.That(sent, Is.All.EqualTo(Size));
            client.Shutdown(SocketShutdown.Send);

            byte[] all = await receive.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.That(all.Length, Is.EqualTo(Count * Size));
            for (int i = 0; i < Count; i++)
            {
                Assert.That(all.AsSpan(i * Size, Size).SequenceEqual(Net.Pattern(Size, seed: 100 + i)), Is.True,
                    $"chunk {i} is not where submission order puts it");
            }
        }
    }

    [Test]
    public async Task Sends_from_several_threads_at_once_each_arrive_whole()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            byte[][] blocks = await Net.SendWholeMessagesFromSeveralThreadsAsync(client, server);
            for (int i = 0; i < blocks.Length; i++)
            {
                Assert.That(blocks[i].AsSpan().IndexOfAnyExcept(blocks[i][0]), Is.EqualTo(-1), $"message {i} is interleaved with another");
            }

            Assert.That(blocks.Select(b => b[0]), Is.EquivalentTo(Enumerable.Range(1, blocks.Length).Select(v => (byte)v)), "each message arrives once");
        }
    }

    [Test]
    public async Task Sends_and_receives_may_be_outstanding_at_once_on_one_socket()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            byte[] buffer = new byte[8];
            ValueTask<int> pendingReceive = client.ReceiveAsync(buffer);
            Assert.That(await client.SendAsync(new byte[] { 1, 2, 3 }).Timeout(), Is.EqualTo(3));

            byte[] got = new byte[3];
            await Net.ReceiveExactlyAsync(server, got);
            await server.SendAsync(new byte[] { 9 }).Timeout();
            Assert.That(got, Is.EqualTo(new byte[] { 1, 2, 3 }));
            Assert.That(await pendingReceive.Timeout(), Is.EqualTo(1));
            Assert.That(buffer[0], Is.EqualTo(9));
        }
    }

    private static async Task EchoUntilClosedAsync(ProactorSocket connection)
    {
        using (connection)
        {
            byte[] buffer = new byte[16 * 1024];
            while (true)
            {
                int n = await connection.ReceiveAsync(buffer);
                if (n == 0)
                {
                    return;
                }

                await connection.SendAsync(buffer.AsMemory(0, n));
            }
        }
    }

    private static ulong Checksum(ReadOnlySpan<byte> data)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in data)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
