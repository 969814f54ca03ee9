using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Pipelines;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>ProactorConnection, the IDuplexPipe over a socket, on every backend.</summary>
public abstract partial class ConformanceTests
{
    private async Task<(ProactorSocket Client, ProactorConnection Server)> ConnectionPairAsync(ProactorConnectionOptions? options = null)
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        var connection = new ProactorConnection(server, options);
        connection.Start();
        return (client, connection);
    }

    private static async Task<byte[]> ReadToEndAsync(PipeReader reader, long expected)
    {
        byte[] all = new byte[expected];
        long got = 0;
        while (true)
        {
            ReadResult result = await reader.ReadAsync().Timeout();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                Assert.That(got + segment.Length, Is.LessThanOrEqualTo(expected), "more bytes than were sent");
                segment.Span.CopyTo(all.AsSpan((int)got));
                got += segment.Length;
            }

            reader.AdvanceTo(result.Buffer.End);
            if (got == expected || result.IsCompleted)
            {
                Assert.That(got, Is.EqualTo(expected), "the input ended early");
                return all;
            }
        }
    }

    [Test]
    public async Task Connection_echoes_a_stream_through_its_pipes_and_ends_cleanly_on_the_peers_close()
    {
        int seed = Environment.TickCount;
        TestContext.Out.WriteLine($"seed {seed}");
        byte[] payload = new byte[3 * 1024 * 1024 + 17];
        new Random(seed).NextBytes(payload);
        var (client, connection) = await ConnectionPairAsync();
        using (client)
        {
            // The server echoes with writes of odd sizes and one flush per three writes, so the
            // send side gets multi-segment sequences.
            Task echo = Task.Run(async () =>
            {
                int writes = 0;
                while (true)
                {
                    ReadResult result = await connection.Input.ReadAsync().Timeout();
                    foreach (ReadOnlyMemory<byte> segment in result.Buffer)
                    {
                        connection.Output.Write(segment.Span);
                        if (++writes % 3 == 0)
                        {
                            await connection.Output.FlushAsync().Timeout();
                        }
                    }

                    connection.Input.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        await connection.Output.CompleteAsync(); // flushes the rest, then FIN
                        return;
                    }
                }
            });

            byte[] echoed = new byte[payload.Length];
            Task receiving = Net.ReceiveExactlyAsync(client, echoed);
            await Net.SendAllAsync(client, payload).Timeout();
            client.Shutdown(SocketShutdown.Send);
            await receiving.Timeout();
            await echo.Timeout(); // ended by a completed read without an exception: the FIN
            Assert.That(await client.ReceiveAsync(new byte[1]).Timeout(), Is.EqualTo(0), "the connection's FIN after its output completed");
            Assert.That(echoed, Is.EqualTo(payload), $"bytes differ (seed {seed})");
            await connection.DisposeAsync().Timeout();
            await connection.Completion.Timeout();
        }
    }

    [Test]
    public async Task A_reset_by_the_peer_completes_the_input_with_an_IOException()
    {
        // Wine reports some resets as the end of the stream, to System.Net.Sockets as much as to
        // this backend (see the differential test), and not the same way twice: there an attempt
        // may end either way, but one of a few must show the reset. Windows and Linux report the
        // reset every time, so one attempt must.
        int attempts = Backends.IocpEnvironment.IsWine ? 5 : 1;
        var endings = new List<string>();
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            IOException? error = await ResetAfterOneReadAsync();
            endings.Add(error is null ? "end" : $"IOException({(error.InnerException as SocketException)?.SocketErrorCode.ToString() ?? error.InnerException?.GetType().Name ?? "no inner exception"})");
            if (error is null)
            {
                continue;
            }

            Assert.That(error.InnerException, Is.InstanceOf<SocketException>());
            Assert.That(((SocketException)error.InnerException!).SocketErrorCode, Is.EqualTo(SocketError.ConnectionReset));
            TestContext.Out.WriteLine($"{Engine.Name}: {string.Join(", ", endings)}");
            return;
        }

        TestContext.Out.WriteLine($"{Engine.Name}: {string.Join(", ", endings)}");
        Assert.Fail($"a reset must not read as an orderly end: {attempts} of {attempts} attempts ended as {string.Join(", ", endings)}");
    }

    /// <summary>
    /// A connection reads three bytes, then its peer resets it: the IOException the connection's
    /// input completed with, or null when the input ended in order.
    /// </summary>
    private async Task<IOException?> ResetAfterOneReadAsync()
    {
        var (client, connection) = await ConnectionPairAsync();
        await using (connection)
        {
            await Net.SendAllAsync(client, new byte[] { 1, 2, 3 }).Timeout();
            ReadResult first = await connection.Input.ReadAsync().Timeout();
            Assert.That(first.Buffer.Length, Is.GreaterThan(0));
            connection.Input.AdvanceTo(first.Buffer.End);

            // The reset is meant for a connection that waits for more: under Wine a receive
            // posted after the RST arrived reads as an orderly end, and the application may be
            // resumed before the connection has started its next wait.
            for (int i = 0; i < 200 && Engine.Statistics.Pending(OperationKind.Receive) == 0; i++)
            {
                await Task.Delay(10);
            }

            client.LingerState = new LingerOption(true, 0); // close sends RST
            client.Dispose();

            try
            {
                while (true)
                {
                    ReadResult r = await connection.Input.ReadAsync().Timeout();
                    connection.Input.AdvanceTo(r.Buffer.End);
                    if (r.IsCompleted)
                    {
                        return null;
                    }
                }
            }
            catch (IOException e)
            {
                return e;
            }
        }
    }

    [Test]
    public async Task Abort_completes_the_input_with_its_reason_and_closes_the_connection()
    {
        var (client, connection) = await ConnectionPairAsync();
        using (client)
        {
            var reason = new InvalidDataException("planted reason");
            connection.Abort(reason);
            Exception? thrown = null;
            try
            {
                await connection.Input.ReadAsync().Timeout();
            }
            catch (InvalidDataException e)
            {
                thrown = e;
            }

            Assert.That(thrown, Is.SameAs(reason));
            await connection.Completion.Timeout();
            Assert.That(connection.Socket.IsDisposed, Is.True, "the aborted connection's socket is closed");
            int end;
            try
            {
                end = await client.ReceiveAsync(new byte[16]).Timeout();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                end = 0;
            }

            Assert.That(end, Is.EqualTo(0), "the peer sees the connection end");
            Assert.That(connection.ConnectionClosed.WaitHandle.WaitOne(Net.StepTimeout), Is.True, "ConnectionClosed fires");
            await connection.DisposeAsync().Timeout();
        }
    }

    [Test]
    public async Task Input_back_pressure_stops_receiving_at_the_pause_threshold()
    {
        const int Pause = 64 * 1024;
        var options = new ProactorConnectionOptions { InputPauseThreshold = Pause, InputResumeThreshold = Pause / 2 };
        var (client, connection) = await ConnectionPairAsync(options);
        await using (connection)
        using (client)
        {
            // Far more than the kernel's socket buffers on both sides can hold.
            byte[] payload = new byte[48 * 1024 * 1024];
            new Random(7).NextBytes(payload);
            Task sending = Net.SendAllAsync(client, payload);

            // Nothing reads; wait until the receive loop has stopped taking more (a bound, not a timing claim).
            long buffered = -1;
            for (int i = 0; i < 100; i++)
            {
                await Task.Delay(50);
                if (connection.Input.TryRead(out ReadResult peek))
                {
                    long now = peek.Buffer.Length;
                    connection.Input.AdvanceTo(peek.Buffer.Start); // consume nothing
                    if (now == buffered && now >= Pause)
                    {
                        break;
                    }

                    buffered = now;
                }
            }

            TestContext.Out.WriteLine($"{Engine.Name}: {buffered} bytes buffered at a pause threshold of {Pause}");
            Assert.That(buffered, Is.InRange(Pause, Pause + PinnedBlockMemoryPool.BlockSize), "unread input beyond the pause threshold");
            Assert.That(sending.IsCompleted, Is.False, "the sender must be held back by TCP's window");

            byte[] received = await ReadToEndAsync(connection.Input, payload.Length);
            await sending.Timeout();
            Assert.That(received.AsSpan().SequenceEqual(payload), Is.True, "bytes differ after resuming");
        }
    }

    [Test]
    public async Task Output_back_pressure_makes_the_writers_flush_wait_until_the_peer_reads()
    {
        const int Pause = 64 * 1024;
        var options = new ProactorConnectionOptions { OutputPauseThreshold = Pause, OutputResumeThreshold = Pause / 2 };
        var (client, connection) = await ConnectionPairAsync(options);
        await using (connection)
        using (client)
        {
            byte[] chunk = new byte[16 * 1024];
            long written = 0;
            Task<FlushResult>? held = null;
            const long Limit = 64L * 1024 * 1024; // beyond any kernel buffering: a flush must have waited by then
            while (written < Limit)
            {
                chunk.AsSpan().Fill((byte)(written / chunk.Length));
                connection.Output.Write(chunk);
                written += chunk.Length;
                ValueTask<FlushResult> flush = connection.Output.FlushAsync();
                if (flush.IsCompleted)
                {
                    await flush;
                    continue;
                }

                // A flush waits whenever the output holds more than the pause threshold, also for
                // the moment it takes the engine to hand it to the kernel (the test runs beside
                // the engine's thread). Only one that stays waiting while the peer reads nothing
                // is held by the peer; on a slow machine one may be taken for it early, which
                // only ends the writing sooner.
                Task<FlushResult> waiting = flush.AsTask();
                if (await Task.WhenAny(waiting, Task.Delay(200)) != waiting)
                {
                    held = waiting;
                    break;
                }

                await waiting;
            }

            TestContext.Out.WriteLine($"{Engine.Name}: the flush was held after {written} bytes");
            Assert.That(held, Is.Not.Null, $"no flush waited in {Limit} bytes: the output has no back-pressure");

            byte[] received = new byte[written];
            await Net.ReceiveExactlyAsync(client, received).Timeout();
            await held!.Timeout();
            for (long i = 0; i < written; i += chunk.Length)
            {
                Assert.That(received[i], Is.EqualTo((byte)(i / chunk.Length)), $"chunk at {i}");
            }
        }
    }

    [Test]
    public async Task An_idle_connection_holds_no_buffer()
    {
        using var pool = new PinnedBlockMemoryPool();
        var options = new ProactorConnectionOptions { MemoryPool = pool };
        const int Connections = 8;
        var clients = new ProactorSocket[Connections];
        var connections = new ProactorConnection[Connections];
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                (clients[i], connections[i]) = await ConnectionPairAsync(options);
                await Net.SendAllAsync(clients[i], new byte[100]).Timeout();
                byte[] got = await ReadToEndAsync(connections[i].Input, 100);
                await connections[i].Output.WriteAsync(got).AsTask().Timeout();
                await Net.ReceiveExactlyAsync(clients[i], new byte[100]).Timeout();
            }

            // The receive loops go back to their zero-byte wait after the read; give them a moment.
            for (int i = 0; i < 100 && pool.RentedBlocks > 0; i++)
            {
                await Task.Delay(20);
            }

            Assert.That(pool.RentedBlocks, Is.Zero, "blocks held by idle connections");
        }
        finally
        {
            foreach (ProactorConnection c in connections)
            {
                if (c is not null)
                {
                    await c.DisposeAsync().Timeout();
                }
            }

            foreach (ProactorSocket s in clients)
            {
                s?.Dispose();
            }
        }
    }

    [Test]
    public async Task Steady_state_connection_round_trips_allocate_nothing()
    {
        var (clientSocket, server) = await ConnectionPairAsync();
        var client = new ProactorConnection(clientSocket);
        client.Start();
        await using (server)
        await using (client)
        {
            byte[] ping = new byte[64];

            // One async method for the whole run: its state machine is boxed once, not per round trip.
            async Task RoundTripsAsync(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    await client.Output.WriteAsync(ping);
                    long n = 0;
                    while (n < ping.Length)
                    {
                        ReadResult r = await server.Input.ReadAsync();
                        foreach (ReadOnlyMemory<byte> segment in r.Buffer)
                        {
                            server.Output.Write(segment.Span);
                        }

                        n += r.Buffer.Length;
                        server.Input.AdvanceTo(r.Buffer.End);
                    }

                    await server.Output.FlushAsync();
                    n = 0;
                    while (n < ping.Length)
                    {
                        ReadResult r = await client.Input.ReadAsync();
                        n += r.Buffer.Length;
                        client.Input.AdvanceTo(r.Buffer.End);
                    }
                }
            }

            // Under Wine a round trip costs milliseconds: fewer, so each run stays in the step timeout.
            bool slow = RoundTripsAreSlow;
            await RoundTripsAsync(slow ? 300 : 3000).Timeout();
            int RoundTrips = slow ? 600 : 5000;
            double best = double.MaxValue;
            for (int attempt = 0; attempt < 3 && best >= 1.0; attempt++)
            {
                long bytes = await ProcessAllocations.MeasureAsync(() => RoundTripsAsync(RoundTrips).Timeout());
                best = Math.Min(best, (double)bytes / RoundTrips);
            }

            // Two reads and two writes per round trip, each a receive and a send underneath (plus the
            // zero-byte waits); what the runtime boxes per pending await under Wine is allowed for.
            TestContext.Out.WriteLine($"{Engine.Name}: {best:F2} B per round trip through two connections");
            if (slow)
            {
                // Under Wine the runtime boxes the awaiter of every await that pends (see
                // IocpEnvironment), and the awaits inside the pipes cannot be counted from here to
                // subtract them. Windows proper and Linux keep the strict bound below.
                Assert.Ignore($"Under Wine the runtime's boxes per pending await cannot be told from the transport's allocations: {best:F1} B per round trip measured.");
            }

            Assert.That(best, Is.LessThan(4.0), $"{best:F1} B allocated per round trip");
        }
    }
}
