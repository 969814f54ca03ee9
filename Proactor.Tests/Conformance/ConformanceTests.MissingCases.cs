using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>
/// Cases the suite did not reach (issue 10): connects and sends that cannot finish, cancels that
/// race the data, deadlines at the edges of the clock, and where an inline continuation runs
/// when the engine, not the network, ends an operation.
/// </summary>
public abstract partial class ConformanceTests
{
    [Test]
    public async Task A_connect_that_cannot_finish_times_out_and_another_is_cancelled()
    {
        using FullBacklog backlog = await FullBacklog.CreateAsync();

        using (var timed = new ProactorSocket(Engine, AddressFamily.InterNetwork))
        {
            var e = await Expect.ThrowsAsync<SocketException>(() => timed.ConnectAsync(backlog.EndPoint, TimeSpan.FromMilliseconds(200)).Timeout());
            Assert.That(e.SocketErrorCode, Is.EqualTo(SocketError.TimedOut));
        }

        using (var cancelled = new ProactorSocket(Engine, AddressFamily.InterNetwork))
        {
            using var cts = new CancellationTokenSource();
            ValueTask connect = cancelled.ConnectAsync(backlog.EndPoint, cts.Token);
            await Task.Delay(100);
            Assert.That(connect.IsCompleted, Is.False, "the connect must be pending for the cancel to mean anything");
            await cts.CancelAsync();
            var e = await Expect.ThrowsAsync<OperationCanceledException>(() => connect.Timeout());
            Assert.That(e.CancellationToken, Is.EqualTo(cts.Token));
        }

        await AssertEngineStillEchoesAsync();
    }

    [Test]
    public async Task Disposing_a_socket_with_a_pending_connect_aborts_it_once_and_a_listener_its_pending_accept()
    {
        using FullBacklog backlog = await FullBacklog.CreateAsync();
        var socket = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        ValueTask connect = socket.ConnectAsync(backlog.EndPoint);
        await Task.Delay(50);
        Assert.That(connect.IsCompleted, Is.False, "the connect must be pending");
        socket.Dispose();
        var c = await Expect.ThrowsAsync<SocketException>(() => connect.Timeout());
        Assert.That(c.SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));

        ProactorSocket listener = Net.Listen(Engine);
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        await Task.Delay(50);
        listener.Dispose();
        var a = await Expect.ThrowsAsync<SocketException>(() => accept.Timeout());
        Assert.That(a.SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));

        await AssertEngineStillEchoesAsync();
    }

    /// <summary>A connected pair whose <paramref name="sender"/> cannot send much before the peer reads.</summary>
    private static void ShrinkBuffers(ProactorSocket sender, ProactorSocket receiver)
    {
        sender.SendBufferSize = 4096;
        receiver.ReceiveBufferSize = 4096;
    }

    [Test]
    public async Task A_send_that_cannot_finish_times_out_or_is_cancelled_and_the_stream_holds_a_prefix_of_it_then_what_follows()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (server)
        {
            ShrinkBuffers(client, server);
            byte[] first = Net.Pattern(16 * 1024 * 1024, seed: 1);
            byte[] second = Net.Pattern(8 * 1024 * 1024, seed: 2);
            byte[] third = Net.Pattern(100_000, seed: 3);

            var t = await Expect.ThrowsAsync<SocketException>(() => client.SendAsync(first, TimeSpan.FromMilliseconds(200)).Timeout());
            Assert.That(t.SocketErrorCode, Is.EqualTo(SocketError.TimedOut));

            using var cts = new CancellationTokenSource();
            ValueTask<int> pending = client.SendAsync(second, cts.Token);
            await Task.Delay(100);
            Assert.That(pending.IsCompleted, Is.False, "the send must be pending: nobody reads");
            await cts.CancelAsync();
            var c = await Expect.ThrowsAsync<OperationCanceledException>(() => pending.Timeout());
            Assert.That(c.CancellationToken, Is.EqualTo(cts.Token));

            // The socket stays usable; what the peer gets is a prefix of each ended send, then the last.
            Task<byte[]> all = Net.ReceiveToEndAsync(server, 1 << 20);
            await Net.SendAllAsync(client, third);
            client.Shutdown(SocketShutdown.Send);
            byte[] got = await all.Timeout();
            client.Dispose();

            Assert.That(got.Length, Is.GreaterThanOrEqualTo(third.Length));
            Assert.That(got.AsSpan(got.Length - third.Length).SequenceEqual(third), Is.True, "the send after the ended ones arrived damaged");
            // The longest common prefix with the first send may run a few bytes past the true cut
            // when the second send happens to start with the same bytes: try the cuts just below it.
            int longest = CommonPrefix(got, first);
            bool explained = false;
            for (int cut = longest; cut >= Math.Max(0, longest - 64) && !explained; cut--)
            {
                int length = got.Length - third.Length - cut;
                explained = length >= 0 && length <= second.Length && got.AsSpan(cut, length).SequenceEqual(second.AsSpan(0, length));
            }

            Assert.That(explained, Is.True,
                $"the {got.Length} bytes received are not a prefix of the timed-out send, a prefix of the cancelled one, then the last send ({longest} bytes match the first)");
        }

        static int CommonPrefix(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
        {
            int n = Math.Min(a.Length, b.Length);
            int i = 0;
            while (i < n && a[i] == b[i])
            {
                i++;
            }

            return i;
        }
    }

    [Test]
    public async Task Cancels_and_timeouts_racing_arriving_data_lose_no_byte_and_report_none_twice()
    {
        int seed = Stress.Seed();
        TestContext.Out.WriteLine($"{Engine.Name}: seed {seed} (replay with PROACTOR_RACE_SEED={seed})");
        var random = new Random(seed);
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            var received = new List<byte>();
            int sent = 0;
            int cancelled = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < Stress.Duration / 2 || sent < 200)
            {
                using var cts = new CancellationTokenSource();
                byte[] buffer = new byte[random.Next(1, 4)];
                bool timeout = random.Next(3) == 0;
                ValueTask<int> receive = timeout
                    ? server.ReceiveAsync(buffer, TimeSpan.FromMilliseconds(1))
                    : server.ReceiveAsync(buffer, cts.Token);

                // The byte and the cancel are let go together, each after a random short spin.
                int spinSend = random.Next(0, 2000);
                int spinCancel = random.Next(0, 2000);
                byte[] one = { Stress.StreamByte(sent) };
                Task send = Task.Run(async () =>
                {
                    Thread.SpinWait(spinSend);
                    await Net.SendAllAsync(client, one);
                });
                Task cancel = Task.Run(() =>
                {
                    Thread.SpinWait(spinCancel);
                    cts.Cancel();
                });
                sent++;

                try
                {
                    int n = await receive.Timeout();
                    Net.CheckCount(n, buffer.Length, "receive");
                    Assert.That(n, Is.Positive, "end of stream on an open connection");
                    received.AddRange(buffer.AsSpan(0, n).ToArray());
                }
                catch (OperationCanceledException) when (!timeout)
                {
                    cancelled++;
                }
                catch (SocketException e) when (timeout && e.SocketErrorCode == SocketError.TimedOut)
                {
                    cancelled++;
                }

                await Task.WhenAll(send, cancel).Timeout();
            }

            // Whatever the ended receives did not take is still there, once and in order. (A short
            // deadline: a byte an ended receive swallowed never comes, and the comparison says so.)
            try
            {
                while (received.Count < sent)
                {
                    byte[] rest = new byte[sent - received.Count];
                    int n = await server.ReceiveAsync(rest, TimeSpan.FromSeconds(5)).Timeout();
                    Net.CheckCount(n, rest.Length, "receive");
                    Assert.That(n, Is.Positive, "end of stream on an open connection");
                    received.AddRange(rest.AsSpan(0, n).ToArray());
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
            }

            TestContext.Out.WriteLine($"{Engine.Name}: {sent} bytes raced against {sent} cancels or timeouts; {cancelled} receives ended early");
            byte[] expected = Enumerable.Range(0, sent).Select(i => Stress.StreamByte(i)).ToArray();
            Assert.That(received.ToArray(), Is.EqualTo(expected), $"seed {seed}: {received.Count} of {sent} bytes arrived: a byte was lost, duplicated or reordered");

            // Nothing more than was sent: a short receive must time out.
            var extra = await Expect.ThrowsAsync<SocketException>(() => server.ReceiveAsync(new byte[1], TimeSpan.FromMilliseconds(100)).Timeout());
            Assert.That(extra.SocketErrorCode, Is.EqualTo(SocketError.TimedOut), "more bytes arrived than were sent");
        }
    }

    [Test]
    public async Task A_zero_length_send_completes_with_zero_and_puts_nothing_on_the_wire()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            Assert.That(await client.SendAsync(ReadOnlyMemory<byte>.Empty).Timeout(), Is.Zero);
            Assert.That(await client.SendAsync(new byte[8], 3, 0).Timeout(), Is.Zero);

            CompletionQueue queue = Engine.CreateCompletionQueue();
            queue.SubmitSend(client, ReadOnlyMemory<byte>.Empty, "empty");
            Completion c = await queue.Reader.ReadAsync().Timeout();
            Assert.That((c.IsSuccess, c.BytesTransferred, c.UserToken), Is.EqualTo((true, 0, (object)"empty")));

            // The peer sees none of it: the next bytes are the first.
            byte[] message = { 5, 6, 7 };
            await Net.SendAllAsync(client, message);
            byte[] got = new byte[3];
            await Net.ReceiveExactlyAsync(server, got);
            Assert.That(got, Is.EqualTo(message));
            var e = await Expect.ThrowsAsync<SocketException>(() => server.ReceiveAsync(new byte[1], TimeSpan.FromMilliseconds(100)).Timeout());
            Assert.That(e.SocketErrorCode, Is.EqualTo(SocketError.TimedOut), "a zero-length send put something on the wire");
        }
    }

    [Test]
    public async Task A_peer_reset_in_the_middle_of_a_large_transfer_fails_the_send_and_the_engine_keeps_serving()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        {
            byte[] payload = Net.Pattern(64 * 1024 * 1024, seed: 4);
            ValueTask<int> send = client.SendAsync(payload);
            ValueTask<int> clientReceive = client.ReceiveAsync(new byte[16]);

            // Take some of it, so the reset lands mid-transfer, and check it is the payload's start.
            byte[] start = new byte[256 * 1024];
            await Net.ReceiveExactlyAsync(server, start);
            Assert.That(start.AsSpan().SequenceEqual(payload.AsSpan(0, start.Length)), Is.True, "the transfer's start arrived damaged");
            Assert.That(send.IsCompleted, Is.False, "the send must still be in progress when the peer resets");
            server.LingerState = new System.Net.Sockets.LingerOption(true, 0);
            server.Dispose();

            Task<int> sending = send.AsTask();
            bool wineLostTheReset = false;
            if (Backends.IocpEnvironment.IsWine && await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(5))) != sending)
            {
                // Wine now and then never fails a send pending on a connection the peer reset
                // (1 run in 4-6 of this test there, before and after the Linux changes of issue 11;
                // Windows and Linux fail it): closing the socket must still end it, once.
                TestContext.Out.WriteLine("Wine left the send pending after the peer's reset: closing the socket ends it");
                wineLostTheReset = true;
                client.Dispose();
            }

            var s = await Expect.ThrowsAsync<SocketException>(() => sending.Timeout());
            Assert.That(s.SocketErrorCode, wineLostTheReset
                ? Is.AnyOf(SocketError.OperationAborted, SocketError.ConnectionReset, SocketError.ConnectionAborted)
                : Is.AnyOf(SocketError.ConnectionReset, SocketError.Shutdown, SocketError.ConnectionAborted));

            // Linux reports a reset once, to whichever call asks first: if the send took it, the
            // receive sees the end of the stream instead. Either way it ends, with no data.
            try
            {
                Assert.That(await clientReceive.Timeout(), Is.Zero, "a receive after the peer's reset got data");
            }
            catch (SocketException r)
            {
                Assert.That(r.SocketErrorCode, wineLostTheReset
                    ? Is.AnyOf(SocketError.OperationAborted, SocketError.ConnectionReset, SocketError.ConnectionAborted)
                    : Is.AnyOf(SocketError.ConnectionReset, SocketError.ConnectionAborted));
            }
        }

        await AssertEngineStillEchoesAsync();
    }

    [Test]
    public async Task The_largest_timeouts_and_delays_do_not_end_at_once()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            using var cts = new CancellationTokenSource();
            ValueTask<int> receiveMax = server.ReceiveAsync(new byte[4], TimeSpan.MaxValue);
            Task delayMax = Engine.Delay(TimeSpan.MaxValue, cts.Token);
            Task delayLong = Engine.Delay(TimeSpan.FromDays(200), cts.Token); // past a 32-bit millisecond wait
            await Task.Delay(300);
            Assert.Multiple(() =>
            {
                Assert.That(receiveMax.IsCompleted, Is.False, "a receive with TimeSpan.MaxValue as its timeout ended at once");
                Assert.That(delayMax.IsCompleted, Is.False, "Delay(TimeSpan.MaxValue) ended at once");
                Assert.That(delayLong.IsCompleted, Is.False, "Delay(200 days) ended at once");
            });

            await Net.SendAllAsync(client, new byte[] { 1, 2 });
            Assert.That(await receiveMax.Timeout(), Is.EqualTo(2));
            await cts.CancelAsync();
            await Expect.ThrowsAsync<OperationCanceledException>(() => delayMax.Timeout());
            await Expect.ThrowsAsync<OperationCanceledException>(() => delayLong.Timeout());
        }

        // The huge deadlines, cancelled or not, must not have upset the loop's next wait.
        Task shortDelay = Engine.Delay(TimeSpan.FromMilliseconds(50));
        await shortDelay.Timeout();
    }

    [Test]
    public async Task A_pending_engine_delay_ends_when_the_engine_is_disposed()
    {
        ProactorEngine engine = CreateSecondEngine();
        Task delay = engine.Delay(TimeSpan.FromSeconds(60));
        await Task.Delay(50);
        engine.Dispose();
        Task ended = await Task.WhenAny(delay, Task.Delay(Net.StepTimeout));
        Assert.That(ended, Is.SameAs(delay), "a pending Delay never ended after its engine was disposed");
        Assert.That(delay.IsCanceled || delay.Exception?.InnerException is ObjectDisposedException, Is.True,
            $"the delay must end cancelled or with ObjectDisposedException, not {delay.Status} {delay.Exception?.InnerException?.GetType().Name}");
    }

    /// <summary>Set once a deadlocked engine was left behind: its cancelling thread spins a core for
    /// the rest of the process, so further fixtures do not add more of them to a 2-core machine.</summary>
    private static volatile string? s_delayDeadlock;

    [Test]
    public async Task An_engine_delay_cancelled_just_as_it_fires_never_deadlocks_the_loop()
    {
        if (s_delayDeadlock is { } earlier)
        {
            Assert.Fail($"not run: {earlier}; its stuck threads still run, and another would slow every later test");
        }

        int seed = Stress.Seed();
        TestContext.Out.WriteLine($"{Engine.Name}: seed {seed} (replay with PROACTOR_RACE_SEED={seed})");

        // Its own engine: if the loop deadlocks, it cannot be disposed (Dispose would wait for it),
        // and the fixture's engine must still be torn down.
        ProactorEngine engine = CreateSecondEngine();
        long iterations = 0;
        long cancelledCount = 0;
        var clock = Stopwatch.StartNew();
        Task Racer(int index) => Task.Run(async () =>
        {
            var random = new Random(seed + index);
            while (clock.Elapsed < Stress.Duration)
            {
                using var cts = new CancellationTokenSource();
                var delay = TimeSpan.FromTicks(random.Next(1, 20_000)); // up to 2 ms
                long due = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
                Task t = engine.Delay(delay, cts.Token);

                // Cancel as close to the deadline as a thread can aim: a little before or after.
                long aim = due + random.Next(-200, 200) * Stopwatch.Frequency / 1_000_000;
                while (Stopwatch.GetTimestamp() < aim)
                {
                    Thread.SpinWait(20);
                }

                cts.Cancel();
                try
                {
                    await t.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref cancelledCount);
                }

                Interlocked.Increment(ref iterations);
            }
        });

        Task all = Task.WhenAll(Enumerable.Range(0, 2).Select(Racer));
        Task done = await Task.WhenAny(all, Task.Delay(Stress.Duration + Net.StepTimeout));
        TestContext.Out.WriteLine($"{engine.Name}: {Interlocked.Read(ref iterations)} delays cancelled at their deadline, {Interlocked.Read(ref cancelledCount)} of them ended cancelled");
        if (done != all)
        {
            // Leave the deadlocked engine undisposed: its Dispose would hang the run.
            s_delayDeadlock = $"{engine.Name} deadlocked on a Delay cancelled at its deadline (seed {seed})";
            Assert.Fail($"seed {seed}: a Delay cancelled at its deadline never ended, or its Cancel never returned, after {Interlocked.Read(ref iterations)} iterations: the loop deadlocked");
        }

        await all;
        Task dispose = Task.Run(engine.Dispose);
        Assert.That(await Task.WhenAny(dispose, Task.Delay(Net.StepTimeout)), Is.SameAs(dispose), "engine.Dispose() hung after the race");
        Assert.That(Interlocked.Read(ref iterations), Is.GreaterThan(100));
    }

    [Test]
    public async Task An_inline_continuation_that_rearms_a_receive_with_a_timeout_gets_its_timeout_every_time()
    {
        using ProactorEngine engine = CreateVariant(o => o with { Dispatch = CompletionDispatch.Inline });
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            const int Retries = 20;
            int timedOut = await RetryUntilDataAsync(server).Timeout();
            Assert.That(timedOut, Is.EqualTo(Retries), "every re-armed receive must time out on its own deadline");

            // And a receive re-armed that way still gets data.
            await Net.SendAllAsync(client, new byte[] { 9 });
            Assert.That(await server.ReceiveAsync(new byte[1], TimeSpan.FromSeconds(10)).Timeout(), Is.EqualTo(1));

            static async Task<int> RetryUntilDataAsync(ProactorSocket socket)
            {
                byte[] buffer = new byte[1];
                int count = 0;
                for (int i = 0; i < Retries; i++)
                {
                    try
                    {
                        // Bare awaits: after the first timeout this code runs inline in the engine's
                        // timer callback, so the next receive and its deadline are armed from there.
                        await socket.ReceiveAsync(buffer, TimeSpan.FromMilliseconds(20));
                        throw new InvalidOperationException("nobody sent anything, yet the receive completed");
                    }
                    catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
                    {
                        count++;
                    }
                }

                await Task.Yield(); // leave the loop thread
                return count;
            }
        }
    }

    [TestCase("cancel")]
    [TestCase("dispose")]
    [TestCase("timeout")]
    [TestCase("engine dispose")]
    public async Task An_inline_continuation_of_an_operation_ended_early_runs_on_an_engine_thread(string how)
    {
        ProactorEngine engine = CreateVariant(o => o with { Dispatch = CompletionDispatch.Inline });
        try
        {
            var (client, server) = await Net.ConnectedPairAsync(engine);
            using (client)
            using (server)
            {
                using var cts = new CancellationTokenSource();
                ValueTask<int> receive = how == "timeout"
                    ? server.ReceiveAsync(new byte[4], TimeSpan.FromMilliseconds(50), cts.Token)
                    : server.ReceiveAsync(new byte[4], cts.Token);
                Assert.That(receive.IsCompleted, Is.False, "the receive must be pending");
                Task<(bool OnEngine, string Thread, Exception? Error)> where = WhereAsync(receive, engine);
                await Task.Delay(20);

                // The ending request comes from this (non-engine) thread; the engine must complete it.
                switch (how)
                {
                    case "cancel":
                        cts.Cancel();
                        break;
                    case "dispose":
                        server.Dispose();
                        break;
                    case "engine dispose":
                        engine.Dispose();
                        break;
                }

                var (onEngine, thread, error) = await where.Timeout();
                Assert.That(error, Is.InstanceOf(how == "cancel" ? typeof(OperationCanceledException) : typeof(SocketException)));
                Assert.That(onEngine, Is.True, $"after a {how}, the inline continuation ran on thread '{thread}', not an engine thread");
            }
        }
        finally
        {
            engine.Dispose();
        }

        static async Task<(bool, string, Exception?)> WhereAsync(ValueTask<int> receive, ProactorEngine engine)
        {
            Exception? error = null;
            try
            {
                await receive; // a bare await: the continuation runs where the engine dispatches it
            }
            catch (Exception e)
            {
                error = e;
            }

            // The engine's loop thread has ended by the time Dispose returns; its thread-static
            // mark stays set, so IsEngineThread still answers for the thread that ran this.
            bool onEngine = engine.IsEngineThread;
            string thread = Thread.CurrentThread.Name ?? $"#{Environment.CurrentManagedThreadId}";
            await Task.Yield();
            return (onEngine, thread, error);
        }
    }

    [Test]
    public async Task A_stream_reads_and_writes_the_offset_and_count_it_is_given()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            var writer = new ProactorStream(client);
            var reader = new ProactorStream(server);
            byte[] source = Net.Pattern(64, seed: 5);

            await writer.WriteAsync(source, 10, 20).Timeout();
            await Task.Run(() => writer.Write(source, 40, 5)).Timeout();

            byte[] target = new byte[100];
            Array.Fill(target, (byte)0xEE);
            int total = 0;
            while (total < 20)
            {
                int n = await reader.ReadAsync(target, 30 + total, 20 - total).Timeout();
                Net.CheckCount(n, 20 - total, "stream read");
                Assert.That(n, Is.Positive);
                total += n;
            }

            int m = 0;
            while (m < 5)
            {
                int from = m;
                int n = await Task.Run(() => reader.Read(target, 70 + from, 5 - from)).Timeout();
                Net.CheckCount(n, 5 - from, "stream read");
                Assert.That(n, Is.Positive);
                m += n;
            }

            byte[] expected = new byte[100];
            Array.Fill(expected, (byte)0xEE);
            source.AsSpan(10, 20).CopyTo(expected.AsSpan(30));
            source.AsSpan(40, 5).CopyTo(expected.AsSpan(70));
            Assert.That(target, Is.EqualTo(expected), "a read or write used bytes outside its offset and count");

            Assert.Multiple(() =>
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadAsync(new byte[4], 3, 2));
                Assert.Throws<ArgumentOutOfRangeException>(() => writer.WriteAsync(new byte[4], -1, 2));
                Assert.Throws<ArgumentNullException>(() => reader.ReadAsync(null!, 0, 0));
                Assert.Throws<ArgumentOutOfRangeException>(() => _ = reader.Read(new byte[4], 0, 5));
            });
        }
    }

    [Test]
    public async Task A_stream_read_is_cancelled_by_its_token_and_loses_no_data()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            var stream = new ProactorStream(server);
            using var cts = new CancellationTokenSource();
            ValueTask<int> read = stream.ReadAsync(new byte[4], cts.Token);
            await Task.Delay(50);
            Assert.That(read.IsCompleted, Is.False);
            await cts.CancelAsync();
            await Expect.ThrowsAsync<OperationCanceledException>(() => read.Timeout());
            await Expect.ThrowsAsync<OperationCanceledException>(() => stream.ReadAsync(new byte[4], 0, 4, cts.Token).Timeout());
            await Expect.ThrowsAsync<OperationCanceledException>(() => stream.WriteAsync(new byte[4], cts.Token).AsTask().Timeout());

            await Net.SendAllAsync(client, new byte[] { 1, 2, 3 });
            byte[] got = new byte[3];
            int total = 0;
            while (total < 3)
            {
                int n = await stream.ReadAsync(got.AsMemory(total)).Timeout();
                Assert.That(n, Is.Positive);
                total += n;
            }

            Assert.That(got, Is.EqualTo(new byte[] { 1, 2, 3 }));
        }
    }

    /// <summary>
    /// ProactorStream stands in for NetworkStream, so code that catches what NetworkStream
    /// throws (IOException around the SocketException) must see the same from it. The test asks
    /// NetworkStream itself, over System.Net.Sockets, in the same situation.
    /// </summary>
    [Test]
    public async Task A_stream_fails_like_NetworkStream_when_the_peer_resets()
    {
        Exception expected = await ReadAfterPeerResetAsync(async () =>
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            listener.Listen();
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Task<Socket> accept = listener.AcceptAsync();
            await client.ConnectAsync(listener.LocalEndPoint!).WaitAsync(Net.StepTimeout);
            Socket server = await accept.WaitAsync(Net.StepTimeout);
            return (new NetworkStream(server, ownsSocket: true), () =>
            {
                client.LingerState = new LingerOption(true, 0);
                client.Dispose();
            });
        });

        Exception actual = await ReadAfterPeerResetAsync(async () =>
        {
            var (client, server) = await Net.ConnectedPairAsync(Engine);
            return (new ProactorStream(server, ownsSocket: true), () =>
            {
                client.LingerState = new LingerOption(true, 0);
                client.Dispose();
            });
        });

        TestContext.Out.WriteLine($"NetworkStream: {expected.GetType().Name}({expected.InnerException?.GetType().Name}); ProactorStream: {actual.GetType().Name}({actual.InnerException?.GetType().Name})");
        Assert.Multiple(() =>
        {
            Assert.That(actual.GetType(), Is.EqualTo(expected.GetType()), "the exception a stream read throws after a peer reset");
            Assert.That(actual.InnerException?.GetType(), Is.EqualTo(expected.InnerException?.GetType()), "the inner exception");
            Assert.That((actual.InnerException as SocketException)?.SocketErrorCode, Is.EqualTo((expected.InnerException as SocketException)?.SocketErrorCode));
        });

        static async Task<Exception> ReadAfterPeerResetAsync(Func<Task<(Stream Stream, Action Reset)>> connect)
        {
            var (stream, reset) = await connect();
            await using (stream)
            {
                Task<int> read = stream.ReadAsync(new byte[4], 0, 4);
                await Task.Delay(50);
                reset();
                try
                {
                    int n = await read.WaitAsync(Net.StepTimeout);
                    return new InvalidOperationException($"the read completed with {n} bytes");
                }
                catch (TimeoutException)
                {
                    throw;
                }
                catch (Exception e)
                {
                    return e;
                }
            }
        }
    }
}
