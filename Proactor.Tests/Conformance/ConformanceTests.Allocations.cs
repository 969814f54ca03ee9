using System;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    /// <summary>
    /// Steady state: a receive and a send per round trip, awaited one at a time, allocate nothing —
    /// on the socket and through a <see cref="ProactorStream"/> over it.
    /// Measured process-wide (continuations may run on other threads), over enough round trips that
    /// a single per-operation allocation would show as at least 24 bytes each.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public async Task Steady_state_receive_and_send_allocate_nothing(bool throughStream)
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            byte[] ping = new byte[64];
            byte[] serverBuffer = new byte[64];
            byte[] clientBuffer = new byte[64];
            ProactorStream? clientStream = throughStream ? new ProactorStream(client) : null;
            ProactorStream? serverStream = throughStream ? new ProactorStream(server) : null;

            ValueTask<int> Receive(ProactorSocket socket, ProactorStream? stream, Memory<byte> buffer) =>
                stream is null ? socket.ReceiveAsync(buffer) : stream.ReadAsync(buffer);

            // How many awaits found their operation still pending: the runtime's cost for those is
            // subtracted (see RuntimeBytesPerPendingAwait). Counted, not assumed: which operations
            // pend depends on the backend's mode (without skip-on-success, sends pend too).
            long pendingAwaits = 0;

            ValueTask<int> Counted(ValueTask<int> operation)
            {
                if (!operation.IsCompleted)
                {
                    pendingAwaits++;
                }

                return operation;
            }

            ValueTask CountedWrite(ValueTask write)
            {
                // The stream's write is the socket's pooled operation itself: one pending await.
                if (!write.IsCompleted)
                {
                    pendingAwaits++;
                }

                return write;
            }

            async Task RoundTripsAsync(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    ValueTask<int> serverReceive = Receive(server, serverStream, serverBuffer);
                    if (clientStream is null)
                    {
                        await Counted(client.SendAsync(ping));
                    }
                    else
                    {
                        await CountedWrite(clientStream.WriteAsync(ping));
                    }

                    int n = await Counted(serverReceive);
                    ValueTask<int> clientReceive = Receive(client, clientStream, clientBuffer);
                    if (serverStream is null)
                    {
                        await Counted(server.SendAsync(serverBuffer.AsMemory(0, n)));
                    }
                    else
                    {
                        await CountedWrite(serverStream.WriteAsync(serverBuffer.AsMemory(0, n)));
                    }

                    int m = await Counted(clientReceive);
                    while (m < n)
                    {
                        m += await Counted(Receive(client, clientStream, clientBuffer.AsMemory(m)));
                    }
                }
            }

            await RoundTripsAsync(RoundTripsAreSlow ? 600 : 2000).Timeout(); // warm up: tiered JIT, pools, caches

            // The best of three measurements: the count is process-wide, and on a busy machine the
            // thread pool may inject threads (their objects count too) in any one of them. An
            // allocation per operation shows in every measurement (24 B or more per operation).
            int RoundTrips = RoundTripsAreSlow ? 1500 : 5000;
            long allocated = long.MaxValue;
            long pendingOfBest = 0;
            double perRoundTrip = double.MaxValue;
            for (int attempt = 0; attempt < 3 && perRoundTrip >= 1.0; attempt++)
            {
                pendingAwaits = 0;
                long bytes = await ProcessAllocations.MeasureAsync(() => RoundTripsAsync(RoundTrips).Timeout());

                // What the runtime allocates for the awaits that were pending is not the backend's.
                double per = (double)(bytes - (pendingAwaits * RuntimeBytesPerPendingAwait)) / RoundTrips;
                if (per < perRoundTrip)
                {
                    (allocated, perRoundTrip, pendingOfBest) = (bytes, per, pendingAwaits);
                }
            }

            TestContext.Out.WriteLine($"{Engine.Name}: {allocated} bytes over {RoundTrips} round trips = {perRoundTrip:F2} B per receive+send pair (x2)" +
                (RuntimeBytesPerPendingAwait == 0 ? "" : $" after subtracting the runtime's {RuntimeBytesPerPendingAwait} B for each of {pendingOfBest} pending awaits"));

            // The async method's own state machine box is allocated once per RoundTripsAsync call, and
            // the thread pool may allocate a little on its own; 4 B per round trip is far below any
            // per-operation object (the smallest .NET object is 24 B).
            Assert.That(perRoundTrip, Is.LessThan(4.0), $"{perRoundTrip:F1} B allocated per round trip");
        }
    }

    /// <summary>
    /// Steady state with many operations of one direction in flight at once (a batch through the
    /// completion queue): spare operation objects are reused, so this allocates nothing either.
    /// </summary>
    [Test]
    public async Task Overlapping_operations_in_steady_state_allocate_nothing()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            CompletionQueue queue = Engine.CreateCompletionQueue(singleReader: true);
            const int Batch = 16;
            byte[] message = new byte[64];
            byte[][] buffers = new byte[Batch][];
            for (int i = 0; i < Batch; i++)
            {
                buffers[i] = new byte[64];
            }

            // The reader's waits that found nothing yet: the runtime's cost for those awaits is
            // subtracted (see RuntimeBytesPerPendingAwait); how often the reader waits depends on
            // the backend's mode (without skip-on-success every completion comes through the port).
            long pendingWaits = 0;

            async Task BatchesAsync(int count)
            {
                for (int b = 0; b < count; b++)
                {
                    for (int i = 0; i < Batch; i++)
                    {
                        queue.SubmitSend(client, message);
                        queue.SubmitReceive(server, buffers[i]);
                    }

                    int pending = 2 * Batch;
                    long missing = (long)Batch * message.Length;
                    while (pending > 0)
                    {
                        if (!queue.Reader.TryRead(out Completion c))
                        {
                            ValueTask<bool> wait = queue.Reader.WaitToReadAsync();
                            if (!wait.IsCompleted)
                            {
                                pendingWaits++;
                            }

                            await wait;
                            continue;
                        }

                        if (!c.IsSuccess)
                        {
                            Assert.Fail(c.ToString()); // formatted only on failure: the loop itself must not allocate
                        }

                        pending--;
                        if (c.Kind == OperationKind.Receive)
                        {
                            missing -= c.BytesTransferred;
                            if (pending == 0 && missing > 0)
                            {
                                queue.SubmitReceive(server, buffers[0]); // TCP split the stream differently
                                pending++;
                            }
                        }
                    }
                }
            }

            await BatchesAsync(RoundTripsAreSlow ? 60 : 200).Timeout();
            int Batches = RoundTripsAreSlow ? 150 : 500;

            // The best of three, as in the round-trip test: background allocations of a busy
            // process land in one measurement, a per-operation allocation in all of them.
            long allocated = long.MaxValue;
            double perOperation = double.MaxValue;
            for (int attempt = 0; attempt < 3 && perOperation >= 0.5; attempt++)
            {
                pendingWaits = 0;
                long bytes = await ProcessAllocations.MeasureAsync(() => BatchesAsync(Batches).Timeout());
                double per = (double)(bytes - (pendingWaits * RuntimeBytesPerPendingAwait)) / (Batches * 2 * Batch);
                if (per < perOperation)
                {
                    (allocated, perOperation) = (bytes, per);
                }
            }

            TestContext.Out.WriteLine($"{Engine.Name}: {allocated} bytes over {Batches * 2 * Batch} overlapping operations = {perOperation:F2} B each" +
                (RuntimeBytesPerPendingAwait == 0 ? "" : $" after subtracting the runtime's {RuntimeBytesPerPendingAwait} B for each of {pendingWaits} pending waits"));
            Assert.That(perOperation, Is.LessThan(2.0), $"{perOperation:F1} B allocated per operation");
        }
    }
}
