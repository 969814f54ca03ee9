using System;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>The Reactor API: readiness handlers, <c>WaitAsync</c>, <c>TryReceive</c>/<c>TrySend</c>.</summary>
public abstract partial class ConformanceTests
{
    /// <summary>A handler that records each call (and whether it ran on the engine's thread) and
    /// then runs the test's action.</summary>
    private sealed class RecordingHandler(Action<ProactorSocket, SocketEvents>? action = null) : IReactorHandler
    {
        public readonly ConcurrentQueue<SocketEvents> Calls = new();
        public int OffEngineThread;

        public int Count => Calls.Count;

        public void HandleEvents(ProactorSocket socket, SocketEvents events)
        {
            if (!socket.Engine.IsEngineThread)
            {
                Interlocked.Increment(ref OffEngineThread);
            }

            Calls.Enqueue(events);
            action?.Invoke(socket, events);
        }
    }

    /// <summary>Skips the test, with the backend's reason, where the Reactor API is not offered.</summary>
    private static void RequireReadiness(ProactorSocket socket)
    {
        try
        {
            socket.TryReceive(Span<byte>.Empty, out _, out _);
        }
        catch (PlatformNotSupportedException e)
        {
            Assert.Ignore($"No readiness on this backend: {e.Message}");
        }
    }

    /// <summary>Lets the loop turn a few times (each engine delay is one more wait of its loop), so a
    /// readiness report that is going to come has come.</summary>
    private async Task LetTheLoopTurnAsync()
    {
        for (int i = 0; i < 5; i++)
        {
            await Engine.Delay(TimeSpan.FromMilliseconds(20)).Timeout();
        }
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        for (int i = 0; i < 3000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.That(condition(), Is.True, $"did not happen within 30 s: {what}");
    }

    [Test]
    public async Task Reactor_handler_reads_what_was_sent_on_the_engine_thread()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            RequireReadiness(server);
            var received = new StringBuilder();
            var handler = new RecordingHandler((s, e) =>
            {
                byte[] buffer = new byte[64];
                while (s.TryReceive(buffer, out int n, out SocketError error) && n > 0)
                {
                    received.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }
            });
            using ReactorRegistration registration = server.RegisterHandler(handler, SocketEvents.Readable);
            await client.SendAsync("hello, reactor"u8.ToArray()).Timeout();
            await UntilAsync(() => Volatile.Read(ref handler.OffEngineThread) + handler.Count > 0 && received.Length == 14, "the handler drained the message");
            Assert.Multiple(() =>
            {
                Assert.That(received.ToString(), Is.EqualTo("hello, reactor"));
                Assert.That(handler.OffEngineThread, Is.Zero, "a handler ran off the engine's thread");
                Assert.That(handler.Calls, Has.All.Matches<SocketEvents>(e => (e & SocketEvents.Readable) != 0));
            });
        }
    }

    [Test]
    public async Task WaitAsync_for_readable_pends_until_data_then_TryReceive_takes_it_and_would_block_after()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            RequireReadiness(server);
            byte[] buffer = new byte[16];
            Assert.That(server.TryReceive(buffer, out int none, out SocketError wouldBlock), Is.False);
            Assert.That((none, wouldBlock), Is.EqualTo((0, SocketError.WouldBlock)));

            ValueTask<SocketEvents> wait = server.WaitAsync(SocketEvents.Readable);
            Assert.That(wait.IsCompleted, Is.False, "nothing was sent, yet the socket was reported readable");
            await client.SendAsync(new byte[] { 1, 2, 3 }).Timeout();
            SocketEvents ready = await wait.Timeout();
            Assert.That(ready & SocketEvents.Readable, Is.EqualTo(SocketEvents.Readable));
            Assert.That(server.TryReceive(buffer, out int n, out SocketError error), Is.True);
            Assert.That((n, error, buffer[2]), Is.EqualTo((3, SocketError.Success, (byte)3)));
            Assert.That(server.TryReceive(buffer, out _, out error), Is.False);
            Assert.That(error, Is.EqualTo(SocketError.WouldBlock));
        }
    }

    [Test]
    public async Task WaitAsync_for_writable_pends_while_the_send_buffer_is_full_and_completes_once_the_peer_reads()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            RequireReadiness(server);
            Assert.That(await server.WaitAsync(SocketEvents.Writable).Timeout() & SocketEvents.Writable, Is.EqualTo(SocketEvents.Writable));

            byte[] chunk = new byte[64 * 1024];
            long sent = 0;
            while (server.TrySend(chunk, out int n, out SocketError error))
            {
                Assert.That(error, Is.EqualTo(SocketError.Success));
                sent += n;
                Assert.That(sent, Is.LessThan(1L << 30), "the send buffer never filled");
            }

            ValueTask<SocketEvents> wait = server.WaitAsync(SocketEvents.Writable);
            Assert.That(wait.IsCompleted, Is.False, "the send buffer is full, yet the socket was reported writable");
            byte[] sink = new byte[1 << 20];
            long drained = 0;
            Task<SocketEvents> waiting = wait.AsTask();
            while (!waiting.IsCompleted && drained < sent)
            {
                drained += await client.ReceiveAsync(sink).Timeout();
            }

            Assert.That(await waiting.Timeout() & SocketEvents.Writable, Is.EqualTo(SocketEvents.Writable));
        }
    }

    [Test]
    public async Task Peer_close_is_reported_as_readable_with_hang_up_and_then_end_of_stream()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (server)
        {
            RequireReadiness(server);
            var handler = new RecordingHandler((s, e) => s.TryReceive(new byte[8], out _, out _));
            using ReactorRegistration registration = server.RegisterHandler(handler, SocketEvents.Readable);
            client.Shutdown(SocketShutdown.Send);
            client.Dispose();
            await UntilAsync(() => handler.Calls.Count > 0, "the handler heard of the hang-up");
            Assert.That(handler.Calls.TryPeek(out SocketEvents first), Is.True);
            Assert.That(first, Is.EqualTo(SocketEvents.Readable | SocketEvents.HangUp));

            registration.Dispose();
            SocketEvents waited = await server.WaitAsync(SocketEvents.Readable).Timeout();
            Assert.That(waited & (SocketEvents.Readable | SocketEvents.HangUp), Is.EqualTo(SocketEvents.Readable | SocketEvents.HangUp));
            Assert.That(server.TryReceive(new byte[8], out int n, out SocketError error), Is.True);
            Assert.That((n, error), Is.EqualTo((0, SocketError.Success)), "end of stream");
        }
    }

    [Test]
    public async Task A_reset_connection_is_reported_with_error_and_TryReceive_returns_the_reset()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (server)
        {
            RequireReadiness(server);
            client.LingerState = new LingerOption(true, 0);
            client.Dispose(); // SO_LINGER 0: the close sends a reset
            SocketEvents ready = await server.WaitAsync(SocketEvents.Readable).Timeout();
            Assert.That(ready & SocketEvents.Error, Is.EqualTo(SocketEvents.Error), $"reported {ready}");
            Assert.That(server.TryReceive(new byte[8], out _, out SocketError error), Is.True);
            Assert.That(error, Is.EqualTo(SocketError.ConnectionReset));
        }
    }

    [Test]
    public async Task A_handler_that_does_not_drain_is_told_again_on_level_triggered_sources_only_on_new_data_on_edge_triggered()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            RequireReadiness(server);
            bool edgeTriggered = Engine.Name.StartsWith("epoll-et", StringComparison.Ordinal);
            int bytesTaken = 0;

            // Takes one byte per call: the socket stays readable after every call but the last.
            var handler = new RecordingHandler((s, e) =>
            {
                if (s.TryReceive(new byte[1], out int n, out _) && n == 1)
                {
                    Interlocked.Increment(ref bytesTaken);
                }
            });
            using ReactorRegistration registration = server.RegisterHandler(handler, SocketEvents.Readable);
            await client.SendAsync(new byte[10]).Timeout();
            if (!edgeTriggered)
            {
                await UntilAsync(() => Volatile.Read(ref bytesTaken) == 10, "told again until drained");
                await LetTheLoopTurnAsync();
                Assert.That(handler.Count, Is.EqualTo(10), $"{Engine.Name}: one call per byte, and none once drained");
                return;
            }

            // epoll reports a socket again on any new wake-up of it (new data, but also e.g. a
            // write-space wake-up, which reports the whole ready mask), never merely because data
            // is left: so the handler is told a few times at most, and then no more while idle.
            await UntilAsync(() => handler.Count >= 1, "told of the data");
            await LetTheLoopTurnAsync();
            int quiet = handler.Count;
            await LetTheLoopTurnAsync();
            Assert.That((handler.Count, Volatile.Read(ref bytesTaken)), Is.EqualTo((quiet, quiet)),
                $"epoll-et told the handler again without a new edge: {string.Join(", ", handler.Calls)}");
            Assert.That(quiet, Is.LessThan(10), "epoll-et behaved level-triggered: told again until drained");

            await client.SendAsync(new byte[1]).Timeout(); // a new edge
            await UntilAsync(() => handler.Count > quiet, "told again on new data");
        }
    }

    [Test]
    public async Task A_handler_that_deregisters_while_it_is_dispatched_is_never_called_again()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            RequireReadiness(server);
            ReactorRegistration? registration = null;
            var handler = new RecordingHandler((s, e) => registration!.Dispose()); // does not drain
            registration = server.RegisterHandler(handler, SocketEvents.Readable); // nothing to read before it is assigned
            await client.SendAsync(new byte[4]).Timeout();
            await UntilAsync(() => handler.Count >= 1, "dispatched once");
            await client.SendAsync(new byte[4]).Timeout();
            await LetTheLoopTurnAsync();
            Assert.That(handler.Count, Is.EqualTo(1), "called after it deregistered itself");
            Assert.That(registration.IsActive, Is.False);

            // The socket takes a new registration, and its waits from the old one are gone.
            var second = new RecordingHandler((s, e) => s.TryReceive(new byte[64], out _, out _));
            using ReactorRegistration again = server.RegisterHandler(second, SocketEvents.Readable);
            await UntilAsync(() => second.Count >= 1, "the new registration heard of the waiting data");
        }
    }

    [Test]
    public async Task Deregistering_from_another_thread_returns_only_after_a_running_call_and_none_starts_after()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            RequireReadiness(server);
            using var entered = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            var handler = new RecordingHandler((s, e) =>
            {
                entered.Set();
                release.Wait(Net.StepTimeout); // holds the loop: bounded
            });
            ReactorRegistration registration = server.RegisterHandler(handler, SocketEvents.Readable);
            await client.SendAsync(new byte[4]).Timeout(); // never drained: LT sources would call again
            // Off the loop: with inline dispatch this method's continuations may run on it.
            Assert.That(await Task.Run(() => entered.Wait(Net.StepTimeout)), Is.True, "never dispatched");

            Task disposing = Task.Run(registration.Dispose);
            await Task.Delay(100);
            Assert.That(disposing.IsCompleted, Is.False, "Dispose returned while the handler was still running");
            release.Set();
            await disposing.Timeout();
            int calls = handler.Count;
            await client.SendAsync(new byte[4]).Timeout();
            await LetTheLoopTurnAsync();
            Assert.That(handler.Count, Is.EqualTo(calls), "called after Dispose returned");
        }
    }

    [Test]
    public async Task Changing_events_moves_the_handler_from_readable_to_writable()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            RequireReadiness(server);
            var handler = new RecordingHandler();
            using ReactorRegistration registration = server.RegisterHandler(handler, SocketEvents.Readable);
            await LetTheLoopTurnAsync();
            Assert.That(handler.Count, Is.Zero, "no data, yet readable was reported");

            registration.ChangeEvents(SocketEvents.Writable);
            await UntilAsync(() => handler.Count >= 1, "told writable");
            Assert.That(handler.Calls, Has.All.Matches<SocketEvents>(e => (e & SocketEvents.Writable) != 0 && (e & SocketEvents.Readable) == 0));

            registration.ChangeEvents(SocketEvents.Readable);
            int calls = handler.Count;
            await LetTheLoopTurnAsync();
            Assert.That(handler.Count, Is.EqualTo(calls), "writable still reported after it was removed");
        }
    }

    [Test]
    public async Task Closing_the_socket_aborts_a_pending_wait_once_and_ends_its_registration()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        {
            RequireReadiness(server);
            var handler = new RecordingHandler();
            ReactorRegistration registration = server.RegisterHandler(handler, SocketEvents.Readable);
            ValueTask<SocketEvents> wait = server.WaitAsync(SocketEvents.Readable);
            server.Dispose();
            SocketException e = await Expect.ThrowsAsync<SocketException>(() => wait.AsTask());
            Assert.That(e.SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));
            Assert.That(registration.IsActive, Is.False);
            Assert.That(() => registration.ChangeEvents(SocketEvents.Writable), Throws.TypeOf<ObjectDisposedException>());
            await client.SendAsync(new byte[4]).Timeout();
            await LetTheLoopTurnAsync();
            Assert.That(handler.Count, Is.Zero, "called after the socket was closed");
            Assert.That(() => server.TryReceive(new byte[1], out _, out _), Throws.TypeOf<ObjectDisposedException>());
        }
    }

    /// <summary>
    /// Disposing the engine closes its sockets without disposing the socket objects: an armed wait
    /// of a live registration then ends aborted. Re-arming it was refused at once, aborted again,
    /// and so on: the loop overflowed its stack while shutting down and took the process with it.
    /// </summary>
    [Test]
    public async Task Disposing_the_engine_ends_a_live_registration_without_calling_its_handler()
    {
        ProactorEngine engine = CreateSecondEngine();
        var (client, server) = await Net.ConnectedPairAsync(engine);
        try
        {
            RequireReadiness(server);
            var handler = new RecordingHandler();
            ReactorRegistration registration = server.RegisterHandler(handler, SocketEvents.Readable | SocketEvents.Writable);
            await UntilAsync(() => handler.Count > 0, "the handler heard the socket is writable");
            registration.ChangeEvents(SocketEvents.Readable); // armed, nothing to read
            int calls = handler.Count;

            Task disposing = Task.Run(engine.Dispose);
            Assert.That(await Task.WhenAny(disposing, Task.Delay(Net.StepTimeout)), Is.SameAs(disposing), "the engine's Dispose did not return");
            await disposing;
            await UntilAsync(() => !registration.IsActive, "the registration ended with the engine");
            Assert.That(handler.Count, Is.EqualTo(calls), "the handler was called for the engine's own shutdown");
            Assert.That(() => registration.ChangeEvents(SocketEvents.Writable), Throws.TypeOf<ObjectDisposedException>());
            registration.Dispose();
            Assert.That(() => server.RegisterHandler(handler, SocketEvents.Readable), Throws.TypeOf<ObjectDisposedException>(),
                "a registration on a socket of a disposed engine would never hear anything");
        }
        finally
        {
            engine.Dispose();
            client.Dispose();
            server.Dispose();
        }
    }

    /// <summary>
    /// Two loops whose handlers each close a socket of the other loop at the same moment (a relay
    /// with its two legs on different engines, both seeing a hang-up): each close waited for the
    /// other handler to return, under the lock that handler ran in, and both loops stopped for
    /// good. Both handlers must return, both registrations end, and both engines serve on.
    /// </summary>
    [Test]
    public async Task Handlers_on_two_loops_that_close_each_others_sockets_at_once_both_return()
    {
        ProactorEngine first = CreateSecondEngine();
        ProactorEngine second = CreateSecondEngine();
        var (client1, server1) = await Net.ConnectedPairAsync(first);
        var (client2, server2) = await Net.ConnectedPairAsync(second);
        bool maybeStuck = false;
        try
        {
            RequireReadiness(server1);
            using var both = new Barrier(2);
            int returned = 0, met = 0, started = 0;
            void CloseTheOther(ProactorSocket other)
            {
                // Once per socket: a level-triggered source reports the unread byte again.
                if (other.IsDisposed || Interlocked.Increment(ref started) > 2)
                {
                    return;
                }

                if (both.SignalAndWait(TimeSpan.FromSeconds(10)))
                {
                    Interlocked.Increment(ref met);
                }

                other.Dispose();
                Interlocked.Increment(ref returned);
            }

            var handler1 = new RecordingHandler((_, _) => CloseTheOther(server2));
            var handler2 = new RecordingHandler((_, _) => CloseTheOther(server1));
            ReactorRegistration registration1 = server1.RegisterHandler(handler1, SocketEvents.Readable);
            ReactorRegistration registration2 = server2.RegisterHandler(handler2, SocketEvents.Readable);
            await client1.SendAsync(new byte[1]).Timeout();
            await client2.SendAsync(new byte[1]).Timeout();

            maybeStuck = true;
            await UntilAsync(() => Volatile.Read(ref returned) == 2, "both handlers returned (the two loops waited for each other)");
            maybeStuck = false;
            Assert.Multiple(() =>
            {
                Assert.That(met, Is.EqualTo(2), "the two handlers did not run at the same time, so the race was not run");
                Assert.That((registration1.IsActive, registration2.IsActive), Is.EqualTo((false, false)));
                Assert.That((server1.IsDisposed, server2.IsDisposed), Is.EqualTo((true, true)));
            });

            foreach (ProactorEngine engine in new[] { first, second })
            {
                var (a, b) = await Net.ConnectedPairAsync(engine);
                using (a)
                using (b)
                {
                    await Net.SendAllAsync(a, new byte[] { 5, 6 });
                    byte[] got = new byte[2];
                    await Net.ReceiveExactlyAsync(b, got);
                    Assert.That(got, Is.EqualTo(new byte[] { 5, 6 }), $"{engine.Name} serves on");
                }
            }

        }
        finally
        {
            // Both loops stuck for good: leave them (closing would wait too).
            if (!maybeStuck)
            {
                foreach (IDisposable d in new IDisposable[] { client1, client2, server1, server2, first, second })
                {
                    d.Dispose();
                }
            }
        }
    }

    [Test]
    public async Task Cancelling_a_wait_completes_it_cancelled_and_the_socket_waits_again()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            RequireReadiness(server);
            using var cts = new CancellationTokenSource();
            ValueTask<SocketEvents> wait = server.WaitAsync(SocketEvents.Readable, cts.Token);
            cts.Cancel();
            await Expect.ThrowsAsync<OperationCanceledException>(() => wait.AsTask());

            ValueTask<SocketEvents> again = server.WaitAsync(SocketEvents.Readable);
            await client.SendAsync(new byte[1]).Timeout();
            Assert.That(await again.Timeout() & SocketEvents.Readable, Is.EqualTo(SocketEvents.Readable));
            Assert.That(await server.ReceiveAsync(new byte[4]).Timeout(), Is.EqualTo(1), "the cancelled wait took no data");
        }
    }

    [Test]
    public async Task Reactor_arguments_are_checked_at_once()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            RequireReadiness(server);
            var handler = new RecordingHandler();
            Assert.Multiple(() =>
            {
                Assert.That(() => server.WaitAsync(SocketEvents.None), Throws.ArgumentException);
                Assert.That(() => server.WaitAsync(SocketEvents.HangUp), Throws.ArgumentException);
                Assert.That(() => server.WaitAsync(SocketEvents.Readable | SocketEvents.Writable), Throws.ArgumentException);
                Assert.That(() => server.WaitAsync((SocketEvents)64), Throws.TypeOf<ArgumentOutOfRangeException>());
                Assert.That(() => server.RegisterHandler(null!, SocketEvents.Readable), Throws.TypeOf<ArgumentNullException>());
                Assert.That(() => server.RegisterHandler(handler, SocketEvents.Error), Throws.ArgumentException);
            });
            using ReactorRegistration registration = server.RegisterHandler(handler, SocketEvents.Readable);
            Assert.That(() => server.RegisterHandler(handler, SocketEvents.Readable), Throws.InvalidOperationException);
            Assert.That(() => registration.ChangeEvents(SocketEvents.None), Throws.ArgumentException);
            Assert.That(registration.Events, Is.EqualTo(SocketEvents.Readable));

            using ProactorSocket listener = Net.Listen(Engine);
            Assert.That(() => listener.TryReceive(new byte[1], out _, out _), Throws.InvalidOperationException);
            client.Dispose();
            Assert.That(() => client.WaitAsync(SocketEvents.Readable), Throws.TypeOf<ObjectDisposedException>());
            Assert.That(() => client.RegisterHandler(handler, SocketEvents.Readable), Throws.TypeOf<ObjectDisposedException>());
        }
    }

    [Test]
    public async Task A_listener_is_readable_when_a_connection_waits_to_be_accepted()
    {
        using ProactorSocket listener = Net.Listen(Engine);
        RequireReadinessOrIgnore(listener);
        ValueTask<SocketEvents> wait = listener.WaitAsync(SocketEvents.Readable);
        Assert.That(wait.IsCompleted, Is.False);
        using var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        await client.ConnectAsync(listener.LocalEndPoint!).Timeout();
        Assert.That(await wait.Timeout() & SocketEvents.Readable, Is.EqualTo(SocketEvents.Readable));
        using ProactorSocket accepted = await listener.AcceptAsync().Timeout();
        Assert.That(accepted.RemoteEndPoint, Is.EqualTo(client.LocalEndPoint));
    }

    [Test]
    public async Task A_wait_raced_by_cancellation_and_data_completes_exactly_once_either_way()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            RequireReadiness(server);
            int seed = Environment.TickCount;
            TestContext.Out.WriteLine($"seed {seed}");
            var random = new Random(seed);
            int ready = 0, cancelled = 0;
            byte[] sink = new byte[16];
            for (int i = 0; i < 200; i++)
            {
                using var cts = new CancellationTokenSource();
                ValueTask<SocketEvents> wait = server.WaitAsync(SocketEvents.Readable, cts.Token);
                int spin = random.Next(0, 2000);
                Task cancel = Task.Run(() =>
                {
                    Thread.SpinWait(spin);
                    cts.Cancel();
                });
                Task send = client.SendAsync(new byte[] { (byte)i }).AsTask();
                try
                {
                    SocketEvents events = await wait.Timeout();
                    Assert.That(events & SocketEvents.Readable, Is.EqualTo(SocketEvents.Readable));
                    ready++;
                }
                catch (OperationCanceledException)
                {
                    cancelled++;
                }

                await Task.WhenAll(cancel, send).Timeout();

                // Whatever the outcome, the byte is there and the socket still waits and reads.
                Assert.That(await server.WaitAsync(SocketEvents.Readable).Timeout() & SocketEvents.Readable, Is.EqualTo(SocketEvents.Readable));
                Assert.That(await server.ReceiveAsync(sink).Timeout(), Is.EqualTo(1));
                Assert.That(sink[0], Is.EqualTo((byte)i), "a byte was lost or reordered");
            }

            TestContext.Out.WriteLine($"{Engine.Name}: {ready} ready, {cancelled} cancelled");
            Assert.That(ready + cancelled, Is.EqualTo(200));
        }
    }

    private static void RequireReadinessOrIgnore(ProactorSocket listener)
    {
        try
        {
            listener.WaitAsync(SocketEvents.Writable, new CancellationToken(true)).AsTask().Dispose();
        }
        catch (PlatformNotSupportedException e)
        {
            Assert.Ignore($"No readiness on this backend: {e.Message}");
        }
    }
}
