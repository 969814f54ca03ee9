using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>Per socket and direction, completions come out in submission order.</summary>
public abstract partial class ConformanceTests
{
    /// <summary>The byte at <paramref name="position"/> of the test stream: a chunk delivered out of
    /// order carries other values than its place expects.</summary>
    private static byte OrderingStreamByte(long position) => (byte)((ulong)position * 0x9E3779B97F4A7C15UL >> 56);

    [Test]
    public async Task Pipelined_receives_on_a_completion_queue_deliver_the_stream_in_order()
    {
        // Two receives outstanding, each completion's buffer resubmitted at once from the reader:
        // a resubmit that finds nothing queued tries its syscall at once on the reader's thread,
        // so the engine must have posted its own completions of the direction before it lets a
        // submitter do that (otherwise later bytes come out of the queue first).
        int seed = int.TryParse(Environment.GetEnvironmentVariable("PROACTOR_TEST_SEED"), out int s) ? s : Random.Shared.Next();
        TestContext.Out.WriteLine($"seed {seed} (PROACTOR_TEST_SEED={seed} replays it)");
        ProactorEngine engine = Engine;
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            CompletionQueue queue = engine.CreateCompletionQueue(singleReader: true);
            TimeSpan duration = TimeSpan.FromSeconds(
                double.TryParse(Environment.GetEnvironmentVariable("PROACTOR_STRESS_SECONDS"), out double secs) && secs > 0 ? secs / 2 : 1.5);
            long written = 0;
            Task writer = Task.Run(async () =>
            {
                var rng = new Random(seed);
                byte[] chunk = new byte[16 * 1024];
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < duration)
                {
                    int size = rng.Next(1, rng.Next(4) == 0 ? chunk.Length : 512);
                    for (int i = 0; i < size; i++)
                    {
                        chunk[i] = OrderingStreamByte(written + i);
                    }

                    int sent = await client.SendAsync(chunk.AsMemory(0, size)).Timeout();
                    Assert.That(sent, Is.EqualTo(size));
                    written += size;
                    switch (rng.Next(16))
                    {
                        case 0:
                            await Task.Delay(1);
                            break;
                        case < 4:
                            await Task.Yield();
                            break;
                    }
                }

                client.Shutdown(SocketShutdown.Send);
            });

            var rngReader = new Random(seed + 1);
            queue.SubmitReceive(server, new byte[rngReader.Next(1, 2048)]);
            queue.SubmitReceive(server, new byte[rngReader.Next(1, 2048)]);
            long position = 0;
            long completions = 0;
            int ends = 0;
            while (ends < 2)
            {
                Completion c;
                while (!queue.Reader.TryRead(out c))
                {
                    await queue.Reader.WaitToReadAsync().AsTask().WaitAsync(Net.StepTimeout);
                }

                completions++;
                Assert.That(c.Error, Is.EqualTo(SocketError.Success), c.ToString());
                if (c.BytesTransferred == 0)
                {
                    ends++;
                    continue;
                }

                Span<byte> got = c.Buffer.Span[..c.BytesTransferred];
                for (int i = 0; i < got.Length; i++)
                {
                    if (got[i] != OrderingStreamByte(position + i))
                    {
                        Assert.Fail($"completion {completions} ({got.Length} bytes) does not continue the stream at byte {position + i}: completions came out of order (seed {seed})");
                    }
                }

                position += got.Length;
                if (ends == 0)
                {
                    queue.SubmitReceive(server, c.Buffer); // at once, from the reader's thread: the racing start
                }
            }

            await writer.Timeout();
            TestContext.Out.WriteLine($"{engine.Name}: {completions} completions, {position} bytes in order");
            Assert.That(position, Is.EqualTo(written), $"bytes received (seed {seed})");
        }
    }
}
