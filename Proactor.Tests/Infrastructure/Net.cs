using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor;

namespace Proactor.Tests.Infrastructure;

/// <summary>Loopback helpers shared by every fixture.</summary>
internal static class Net
{
    /// <summary>How long any awaited step of a test may take before the test fails.</summary>
    public static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    public static IPAddress Loopback(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;

    /// <summary>A listener on an ephemeral loopback port.</summary>
    public static ProactorSocket Listen(ProactorEngine engine, AddressFamily family = AddressFamily.InterNetwork, int backlog = 512) =>
        ProactorSocket.CreateListener(engine, new IPEndPoint(Loopback(family), 0), backlog);

    /// <summary>A connected pair: (client, server side), both on <paramref name="engine"/>.</summary>
    public static async Task<(ProactorSocket Client, ProactorSocket Server)> ConnectedPairAsync(
        ProactorEngine engine, AddressFamily family = AddressFamily.InterNetwork)
    {
        using ProactorSocket listener = Listen(engine, family);
        var client = new ProactorSocket(engine, family);
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!).AsTask().WaitAsync(StepTimeout);
        ProactorSocket server = await accept.AsTask().WaitAsync(StepTimeout);
        return (client, server);
    }

    /// <summary>A port on which nothing listens (bound, then closed).</summary>
    public static IPEndPoint ClosedPort(AddressFamily family = AddressFamily.InterNetwork)
    {
        using var s = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(Loopback(family), 0));
        return (IPEndPoint)s.LocalEndPoint!;
    }

    /// <summary>
    /// Sends 1 MiB messages, each filled with its own byte value, from several threads at once on
    /// <paramref name="sender"/>, and returns what <paramref name="receiver"/> got, split into
    /// message-sized blocks in arrival order. Each message is far larger than a socket buffer, so
    /// the kernel takes it in pieces: a send that completes only when all of it is written must
    /// still arrive whole, never interleaved with another thread's message.
    /// </summary>
    public static async Task<byte[][]> SendWholeMessagesFromSeveralThreadsAsync(ProactorSocket sender, ProactorSocket receiver, int threads = 4, int messagesEach = 6)
    {
        const int Size = 1 << 20;
        byte[] received = new byte[threads * messagesEach * Size];
        Task receiving = ReceiveExactlyAsync(receiver, received);
        using var start = new Barrier(threads);
        var senders = new Task[threads];
        for (int t = 0; t < threads; t++)
        {
            int thread = t;
            senders[t] = Task.Run(async () =>
            {
                start.SignalAndWait();
                for (int m = 0; m < messagesEach; m++)
                {
                    byte[] message = new byte[Size];
                    message.AsSpan().Fill((byte)((thread * messagesEach) + m + 1));
                    await SendAllAsync(sender, message);
                }
            });
        }

        await Task.WhenAll(senders).Timeout();
        await receiving.Timeout();
        var blocks = new byte[threads * messagesEach][];
        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i] = received.AsSpan(i * Size, Size).ToArray();
        }

        return blocks;
    }

    /// <summary>Sends every byte of <paramref name="data"/> and fails unless the send reports exactly
    /// that many: a send completes only when all of it was written, so any other count is a bug.</summary>
    public static async Task SendAllAsync(ProactorSocket socket, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        int sent = await socket.SendAsync(data, ct).AsTask().WaitAsync(StepTimeout, ct);
        if (sent != data.Length)
        {
            throw new InvalidOperationException($"A send of {data.Length} bytes reported {sent}.");
        }
    }

    /// <summary>A count an operation reported must lie in 0..<paramref name="max"/> (the room it was given).</summary>
    public static void CheckCount(int count, int max, string what)
    {
        if (count < 0 || count > max)
        {
            throw new InvalidOperationException($"A {what} into {max} bytes of room reported {count} bytes.");
        }
    }

    /// <summary>Receives exactly <paramref name="buffer"/>.Length bytes, or fails on early end.</summary>
    public static async Task ReceiveExactlyAsync(ProactorSocket socket, Memory<byte> buffer, CancellationToken ct = default)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer[total..], ct).AsTask().WaitAsync(StepTimeout, ct);
            if (n == 0)
            {
                throw new InvalidOperationException($"The peer closed after {total} of {buffer.Length} bytes.");
            }

            CheckCount(n, buffer.Length - total, "receive");
            total += n;
        }
    }

    /// <summary>Receives until the peer closes; returns everything received.</summary>
    public static async Task<byte[]> ReceiveToEndAsync(ProactorSocket socket, int expectedCapacity = 4096)
    {
        var output = new System.IO.MemoryStream(expectedCapacity);
        byte[] chunk = new byte[64 * 1024];
        while (true)
        {
            int n = await socket.ReceiveAsync(chunk).AsTask().WaitAsync(StepTimeout);
            if (n == 0)
            {
                return output.ToArray();
            }

            CheckCount(n, chunk.Length, "receive");
            output.Write(chunk, 0, n);
        }
    }

    /// <summary>Deterministic test bytes: position-dependent, so a lost, duplicated or reordered
    /// chunk changes the content.</summary>
    /// <summary>The engine still serves: one byte sent by <paramref name="client"/> reaches a
    /// receive posted on <paramref name="server"/> before the send.</summary>
    public static async Task AssertOneByteGoesThroughAsync(ProactorSocket client, ProactorSocket server, byte value)
    {
        byte[] got = new byte[1];
        ValueTask<int> receive = server.ReceiveAsync(got);
        await client.SendAsync(new[] { value }).Timeout();
        Assert.That(await receive.AsTask().Timeout(), Is.EqualTo(1));
        Assert.That(got[0], Is.EqualTo(value));
    }

    public static byte[] Pattern(int length, int seed = 0)
    {
        byte[] data = new byte[length];
        uint x = (uint)seed * 2654435761u + 1;
        for (int i = 0; i < data.Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            data[i] = (byte)x;
        }

        return data;
    }

    // The helpers below resume the test on the thread pool, never on the thread that completed the
    // operation: with inline dispatch that thread is the engine's loop, and a test that then blocks
    // (as NUnit's synchronous asserts do) would stall the very engine it waits for.

    public static Task<T> Timeout<T>(this ValueTask<T> task) => task.AsTask().Timeout();

    public static Task Timeout(this ValueTask task) => task.AsTask().Timeout();

    public static async Task Timeout(this Task task)
    {
        try
        {
            await task.WaitAsync(StepTimeout).ConfigureAwait(false);
        }
        finally
        {
            await ToThePool();
        }
    }

    public static async Task<T> Timeout<T>(this Task<T> task)
    {
        try
        {
            return await task.WaitAsync(StepTimeout).ConfigureAwait(false);
        }
        finally
        {
            await ToThePool();
        }
    }

    /// <summary>
    /// Awaited, resumes on the thread pool, whichever thread awaits it. <c>ForceYielding</c> on the
    /// awaited operation itself is not enough: it yields only for a task already complete when
    /// awaited; one that completes later runs the continuation on the thread that completed it
    /// (with inline dispatch, the engine's loop thread).
    /// </summary>
    public static ConfiguredTaskAwaitable ToThePool() =>
        Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
}
