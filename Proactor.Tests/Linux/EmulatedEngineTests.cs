using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Linux;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Linux;

/// <summary>What only the emulated engines have: their waker's descriptor after shutdown, and
/// receives they spare once a short read proved the socket empty.</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[SupportedOSPlatform("linux")]
[NonParallelizable] // reuses descriptor numbers: no other test may open or close any meanwhile
public sealed class EmulatedEngineTests
{
    [TestCase(BackendKind.Epoll, false)]
    [TestCase(BackendKind.Epoll, true)]
    [TestCase(BackendKind.Poll, false)]
    [TestCase(BackendKind.Select, false)]
    public unsafe void A_wake_after_shutdown_never_writes_into_a_reused_descriptor(BackendKind backend, bool levelTriggered)
    {
        ProactorEngine engine = EngineFactory.Create(new EngineOptions { Backend = backend, EpollLevelTriggered = levelTriggered });
        int wakeFd = engine switch
        {
            EmulatedEngine<EpollDemultiplexer> e => e.WakeDescriptor,
            EmulatedEngine<EpollLevelDemultiplexer> e => e.WakeDescriptor,
            EmulatedEngine<PollDemultiplexer> e => e.WakeDescriptor,
            EmulatedEngine<SelectDemultiplexer> e => e.WakeDescriptor,
            _ => -1,
        };
        Assert.That(wakeFd, Is.GreaterThan(2));
        engine.Dispose();

        // Take descriptors until one gets the waker's old number (the kernel hands out the lowest free).
        var taken = new List<int>();
        int reused = -1;
        try
        {
            for (int i = 0; i < 64 && reused < 0; i++)
            {
                int fd = Interop.Sys.EventFd(0, Interop.Sys.EFD_NONBLOCK | Interop.Sys.EFD_CLOEXEC);
                Assert.That(fd, Is.GreaterThanOrEqualTo(0));
                taken.Add(fd);
                if (fd == wakeFd)
                {
                    reused = fd;
                }
            }

            Assume.That(reused, Is.GreaterThanOrEqualTo(0), "the waker's descriptor number was not reused here");

            // A timer scheduled or a cancel posted after Dispose wakes the (gone) loop.
            engine.WakeLoop();

            ulong value = 0;
            long read = Interop.Sys.Read(reused, &value, sizeof(ulong));
            Assert.That(read, Is.LessThan(0L), $"the disposed engine wrote {value} into a descriptor it no longer owns");
        }
        finally
        {
            foreach (int fd in taken)
            {
                Interop.Sys.Close(fd);
            }
        }
    }
    /// <summary>
    /// The bench's echo server on an inline engine: a zero-byte wait, a receive into a buffer
    /// larger than the message, the echo. The receive comes back short, which proves the socket
    /// empty until the next report, so the zero-byte wait the continuation queues next is left for
    /// that report without a peek that would fail (one receive syscall fewer per round trip). The
    /// end of the stream still arrives: when the last bytes and the peer's FIN come in one report
    /// (the loop is held meanwhile), the short read that takes the bytes proves nothing, since an
    /// edge-triggered source reports the end only once.
    /// </summary>
    [TestCase(BackendKind.Epoll, false)]
    [TestCase(BackendKind.Epoll, true)]
    [TestCase(BackendKind.Poll, false)]
    [TestCase(BackendKind.Select, false)]
    public async Task A_zero_byte_wait_after_a_short_receive_costs_no_syscall_and_the_end_still_arrives(BackendKind backend, bool levelTriggered)
    {
        const int RoundTrips = 500;
        byte[] last = Net.Pattern(100, seed: 12);
        using ProactorEngine engine = EngineFactory.Create(new EngineOptions
        {
            Backend = backend,
            EpollLevelTriggered = levelTriggered,
            Dispatch = CompletionDispatch.Inline,
        });
        using ProactorSocket listener = Net.Listen(engine);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = (int)Net.StepTimeout.TotalMilliseconds,
        };
        ValueTask<ProactorSocket> accepting = listener.AcceptAsync();
        client.Connect(listener.LocalEndPoint!);
        using ProactorSocket server = await accepting.AsTask().Timeout();
        Task<long> echo = EchoUntilTheEndAsync(server);

        // The client blocks: off the loop thread, which the await above may have resumed on.
        await Task.Run(() =>
        {
            byte[] ping = Net.Pattern(64, seed: 11);
            byte[] pong = new byte[64];
            long sparedBefore = Spared(engine);
            for (int i = 0; i < RoundTrips; i++)
            {
                client.Send(ping);
                ReceiveExactly(client, pong);
                Assert.That(pong, Is.EqualTo(ping), $"round trip {i}");
            }

            long spared = Spared(engine) - sparedBefore;
            TestContext.Out.WriteLine($"{engine.Name}: {spared} receives spared in {RoundTrips} round trips");
            Assert.That(spared, Is.GreaterThanOrEqualTo(RoundTrips * 9 / 10), "the zero-byte wait after each short receive still made its syscall");

            // The last bytes and the FIN reach the kernel while the loop is held: one report for both.
            using var held = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            Post(engine, () =>
            {
                held.Set();
                release.Wait(Net.StepTimeout);
            });
            Assert.That(held.Wait(Net.StepTimeout), Is.True, "the loop never ran the posted work");
            client.Send(last);
            client.Shutdown(SocketShutdown.Send);
            release.Set();
        }).Timeout();

        Assert.That(await echo.Timeout(), Is.EqualTo((RoundTrips * 64L) + last.Length), "the server never saw the end of the stream");
        byte[] back = new byte[last.Length];
        ReceiveExactly(client, back);
        Assert.That(back, Is.EqualTo(last));

        static async Task<long> EchoUntilTheEndAsync(ProactorSocket socket)
        {
            byte[] buffer = new byte[1024];
            long total = 0;
            while (true)
            {
                await socket.ReceiveAsync(Memory<byte>.Empty);
                int n = await socket.ReceiveAsync(buffer);
                if (n == 0)
                {
                    return total;
                }

                await socket.SendAsync(buffer.AsMemory(0, n));
                total += n;
            }
        }

        static void ReceiveExactly(Socket socket, byte[] buffer)
        {
            int got = 0;
            while (got < buffer.Length)
            {
                int n = socket.Receive(buffer, got, buffer.Length - got, SocketFlags.None);
                Assert.That(n, Is.GreaterThan(0), "the server closed early");
                got += n;
            }
        }
    }

    private static long Spared(ProactorEngine engine) => engine switch
    {
        EmulatedEngine<EpollDemultiplexer> e => Volatile.Read(ref e.SparedReceives),
        EmulatedEngine<EpollLevelDemultiplexer> e => Volatile.Read(ref e.SparedReceives),
        EmulatedEngine<PollDemultiplexer> e => Volatile.Read(ref e.SparedReceives),
        EmulatedEngine<SelectDemultiplexer> e => Volatile.Read(ref e.SparedReceives),
        _ => throw new ArgumentException($"not an emulated engine: {engine.Name}", nameof(engine)),
    };

    private static void Post(ProactorEngine engine, Action action)
    {
        switch (engine)
        {
            case EmulatedEngine<EpollDemultiplexer> e: e.Post(static a => ((Action)a!)(), action); break;
            case EmulatedEngine<EpollLevelDemultiplexer> e: e.Post(static a => ((Action)a!)(), action); break;
            case EmulatedEngine<PollDemultiplexer> e: e.Post(static a => ((Action)a!)(), action); break;
            case EmulatedEngine<SelectDemultiplexer> e: e.Post(static a => ((Action)a!)(), action); break;
            default: throw new ArgumentException($"not an emulated engine: {engine.Name}", nameof(engine));
        }
    }
}
