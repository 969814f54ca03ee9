using System;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    /// <summary>
    /// The instruments a dashboard reads say what a real echo did: operations started and
    /// completed by kind and result, bytes each way, the accepted connection, open sockets,
    /// nothing left pending — tagged with this engine's backend and instance name.
    /// </summary>
    [Test]
    public async Task Metrics_count_the_operations_and_bytes_of_an_echo()
    {
        using var metrics = new MetricsCollector(Engine.InstanceName);
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        long receives = 0;
        long sends = 0;
        long bytes = 0;
        using (client)
        using (server)
        {
            byte[] serverBuffer = new byte[4096];
            byte[] clientBuffer = new byte[4096];
            for (int i = 1; i <= 40; i++)
            {
                int size = i * 97;
                ValueTask<int> serverReceive = server.ReceiveAsync(serverBuffer);
                receives++;
                await client.SendAsync(new byte[size]).Timeout();
                sends++;
                int got = await serverReceive.Timeout();
                while (got < size)
                {
                    got += await server.ReceiveAsync(serverBuffer.AsMemory(got)).Timeout();
                    receives++;
                }

                await server.SendAsync(serverBuffer.AsMemory(0, size)).Timeout();
                sends++;
                got = 0;
                while (got < size)
                {
                    got += await client.ReceiveAsync(clientBuffer.AsMemory(got)).Timeout();
                    receives++;
                }

                bytes += 2L * size;
            }

            // One receive ended by its token, one by its deadline: the result tag tells them apart.
            using var cts = new CancellationTokenSource();
            ValueTask<int> cancelled = server.ReceiveAsync(new byte[8], cts.Token);
            await cts.CancelAsync();
            await Expect.ThrowsAsync<OperationCanceledException>(async () => await cancelled.Timeout());
            await Expect.ThrowsAsync<System.Net.Sockets.SocketException>(async () =>
                await server.ReceiveAsync(new byte[8], TimeSpan.FromMilliseconds(20)).Timeout());
            receives += 2;

            metrics.Collect();
            TestContext.Out.WriteLine($"{Engine.InstanceName}: {receives} receives, {sends} sends, {bytes} bytes");
            Assert.Multiple(() =>
            {
                Assert.That(metrics.Backends, Is.EquivalentTo(new[] { Engine.Name }), "backend tag");
                Assert.That(metrics.Get("proactor.operations.started", "kind=receive"), Is.EqualTo(receives));
                Assert.That(metrics.Get("proactor.operations.completed", "kind=receive", "result=success"), Is.EqualTo(receives - 2));
                Assert.That(metrics.Get("proactor.operations.completed", "kind=receive", "result=cancelled"), Is.EqualTo(1));
                Assert.That(metrics.Get("proactor.operations.completed", "kind=receive", "result=timed_out"), Is.EqualTo(1));
                Assert.That(metrics.Get("proactor.operations.timed_out"), Is.EqualTo(1));
                Assert.That(metrics.Get("proactor.operations.started", "kind=send"), Is.EqualTo(sends));
                Assert.That(metrics.Get("proactor.operations.completed", "kind=send", "result=success"), Is.EqualTo(sends));
                Assert.That(metrics.Get("proactor.operations.completed", "kind=accept", "result=success"), Is.EqualTo(1));
                Assert.That(metrics.Get("proactor.operations.completed", "kind=connect", "result=success"), Is.EqualTo(1));
                Assert.That(metrics.Get("proactor.operations.pending"), Is.Zero);
                Assert.That(metrics.Get("proactor.bytes.sent"), Is.EqualTo(bytes));
                Assert.That(metrics.Get("proactor.bytes.received"), Is.EqualTo(bytes));
                Assert.That(metrics.Get("proactor.connections.accepted"), Is.EqualTo(1));
                Assert.That(metrics.Get("proactor.sockets.open"), Is.EqualTo(2), "client and server; the listener was closed");
                Assert.That(metrics.Get("proactor.loop.iterations"), Is.GreaterThan(0));
            });
        }

        metrics.Collect();
        Assert.That(metrics.Get("proactor.sockets.open"), Is.Zero, "after both sockets were disposed");
    }

    /// <summary>
    /// A process that listens to every Proactor instrument (as dotnet-counters does) still
    /// allocates nothing per steady-state receive and send.
    /// </summary>
    [Test]
    public async Task Steady_state_with_a_meter_listener_attached_allocates_nothing()
    {
        long measurements = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = static (instrument, l) =>
            {
                if (instrument.Meter.Name == "Proactor")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref measurements));
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref measurements));
        listener.Start();

        await Steady_state_receive_and_send_allocate_nothing(throughStream: false);
        TestContext.Out.WriteLine($"{measurements} measurements recorded while listening");
    }
}
