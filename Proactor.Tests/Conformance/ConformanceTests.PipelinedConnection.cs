using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Pipelines;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>ProactorConnection under a Kestrel-shaped pipelined load: batches of requests in, one
/// flush per response out.</summary>
public abstract partial class ConformanceTests
{
    private const int PipelineDepth = 16;
    private const int PipelinedRequestSize = 40;
    private const int PipelinedResponseSize = 64;

    /// <summary>
    /// The client writes <see cref="PipelineDepth"/> requests with one flush; the server answers
    /// each with its own write and flush, as Kestrel does for pipelined requests; the client reads
    /// every response and checks it names its request. Returns how many requests went through.
    /// One async method for the whole run, so its state machine is allocated once, not per batch.
    /// </summary>
    private static async Task<long> PipelinedBatchesAsync(ProactorConnection client, ProactorConnection server, int batches, long firstRequest)
    {
        byte[] requests = new byte[PipelineDepth * PipelinedRequestSize];
        byte[] response = new byte[PipelinedResponseSize];
        byte[] request = new byte[PipelinedRequestSize];
        byte[] got = new byte[PipelinedResponseSize];
        long id = firstRequest;
        for (int b = 0; b < batches; b++)
        {
            for (int r = 0; r < PipelineDepth; r++)
            {
                BitConverter.TryWriteBytes(requests.AsSpan(r * PipelinedRequestSize), id + r);
            }

            await client.Output.WriteAsync(requests);

            // Server: parse requests as they arrive, answer each with a write and a flush.
            int answered = 0;
            while (answered < PipelineDepth)
            {
                ReadResult read = await server.Input.ReadAsync();
                ReadOnlySequence<byte> buffer = read.Buffer;
                while (buffer.Length >= PipelinedRequestSize && answered < PipelineDepth)
                {
                    buffer.Slice(0, PipelinedRequestSize).CopyTo(request);
                    request.AsSpan(0, sizeof(long)).CopyTo(response);
                    response[^1] = (byte)answered;
                    server.Output.Write(response);
                    await server.Output.FlushAsync();
                    buffer = buffer.Slice(PipelinedRequestSize);
                    answered++;
                }

                server.Input.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted && answered < PipelineDepth)
                {
                    throw new InvalidOperationException($"the server's input ended after {answered} requests of batch {b}");
                }
            }

            // Client: every response, in order, names its request.
            int received = 0;
            while (received < PipelineDepth)
            {
                ReadResult read = await client.Input.ReadAsync();
                ReadOnlySequence<byte> buffer = read.Buffer;
                while (buffer.Length >= PipelinedResponseSize && received < PipelineDepth)
                {
                    buffer.Slice(0, PipelinedResponseSize).CopyTo(got);
                    long named = BitConverter.ToInt64(got);
                    if (named != id + received || got[^1] != (byte)received)
                    {
                        throw new InvalidOperationException($"response {received} of batch {b} names request {named} (slot {got[^1]}), expected {id + received}");
                    }

                    buffer = buffer.Slice(PipelinedResponseSize);
                    received++;
                }

                client.Input.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted && received < PipelineDepth)
                {
                    throw new InvalidOperationException($"the client's input ended after {received} responses of batch {b}");
                }
            }

            id += PipelineDepth;
        }

        return id - firstRequest;
    }

    [Test]
    public async Task Pipelined_responses_flushed_one_by_one_arrive_in_order_in_fewer_sends_than_flushes()
    {
        var (clientSocket, server) = await ConnectionPairAsync();
        var client = new ProactorConnection(clientSocket);
        client.Start();
        await using (server)
        await using (client)
        {
            const int Batches = 500;
            await PipelinedBatchesAsync(client, server, 20, 0).Timeout();
            long sendsBefore = Engine.Statistics.Started(OperationKind.Send);
            long requests = await PipelinedBatchesAsync(client, server, Batches, 1_000_000).Timeout();
            long sends = Engine.Statistics.Started(OperationKind.Send) - sendsBefore;

            // The client flushes once per batch, and its 640 B leave in one send.
            long serverSends = sends - Batches;
            TestContext.Out.WriteLine($"{Engine.Name}: {serverSends} sends for {requests} flushed responses ({(double)requests / serverSends:F1} responses per send)");
            Assert.That(requests, Is.EqualTo(Batches * PipelineDepth));

            // A flush only wakes the send loop (on the connection's I/O queue); the flushes made
            // before it runs share its send. Sending on the flushing thread would make exactly one
            // send per response. Only the direction of the effect is asserted: how many flushes a
            // send gathers depends on how soon a thread-pool thread picks the queue up.
            Assert.That(serverSends, Is.LessThanOrEqualTo(requests * 3 / 4),
                "the send loop sent once per flush: pipelined responses are not gathered into fewer sends");
        }
    }

    [Test]
    public async Task Steady_state_pipelined_requests_allocate_nothing_in_the_connection()
    {
        var (clientSocket, server) = await ConnectionPairAsync();
        var client = new ProactorConnection(clientSocket);
        client.Start();
        await using (server)
        await using (client)
        {
            // Under Wine a batch costs milliseconds: fewer, so each run stays in the step timeout.
            bool slow = RoundTripsAreSlow;
            int batches = slow ? 60 : 625; // 10 000 requests on Linux
            await PipelinedBatchesAsync(client, server, slow ? 30 : 200, 0).Timeout();
            double best = double.MaxValue;
            long requests = 0;
            for (int attempt = 0; attempt < 3 && best >= 1.0; attempt++)
            {
                (long bytes, requests) = await ProcessAllocations.MeasureAsync(() => PipelinedBatchesAsync(client, server, batches, 1_000_000).Timeout());
                best = Math.Min(best, (double)bytes / requests);
            }

            TestContext.Out.WriteLine($"{Engine.Name}: {best:F2} B per pipelined request ({requests} requests a run, best of the runs)");
            if (slow)
            {
                // As in the round-trip test: Wine's runtime boxes every pending await, and those
                // cannot be told apart from the transport's own allocations from here.
                Assert.Ignore($"Under Wine the runtime's boxes per pending await cannot be told from the transport's allocations: {best:F1} B per request measured.");
            }

            // Per request: a read, a write, a flush and a share of a receive and a send on each
            // side. Any object allocated per request or per batch would be at least 24 B / 16.
            Assert.That(best, Is.LessThan(1.0), $"{best:F2} B allocated per pipelined request");
        }
    }
}
