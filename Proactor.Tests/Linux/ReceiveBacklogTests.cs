using System;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Linux;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Linux;

/// <summary>
/// A stream read with a zero-byte wait before each receive (the echo server's, Kestrel's shape):
/// where the last receive filled its buffer and the kernel said bytes were left (TCP_INQ), the
/// wait completes without its one-byte peek. The conformance suite proves the results on every
/// backend; this counts the saving.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[SupportedOSPlatform("linux")]
public sealed class ReceiveBacklogTests
{
    [TestCase(BackendKind.Epoll, CompletionDispatch.Inline)]
    [TestCase(BackendKind.Epoll, CompletionDispatch.ThreadPool)]
    [TestCase(BackendKind.Poll, CompletionDispatch.ThreadPool)]
    [TestCase(BackendKind.Select, CompletionDispatch.Inline)]
    [TestCase(BackendKind.IoUring, CompletionDispatch.ThreadPool)]
    [TestCase(BackendKind.IoUring, CompletionDispatch.Inline)]
    public async Task Zero_byte_waits_on_a_stream_are_answered_from_what_the_last_receive_left(BackendKind backend, CompletionDispatch dispatch)
    {
        const int Buffer = 16 * 1024;
        const int Total = 4 * 1024 * 1024;
        using ProactorEngine engine = EngineFactory.Create(new EngineOptions { Backend = backend, Dispatch = dispatch });
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            byte[] sent = Net.Pattern(Total, seed: 31);
            Task sending = Task.Run(async () =>
            {
                await client.SendAsync(sent);
                client.Shutdown(SocketShutdown.Send);
            });

            byte[] buffer = new byte[Buffer];
            int waits = 0;
            long total = 0;
            while (true)
            {
                await server.ReceiveAsync(Memory<byte>.Empty).Timeout();
                waits++;
                int n = await server.ReceiveAsync(buffer).Timeout();
                if (n == 0)
                {
                    break;
                }

                Assert.That(buffer.AsSpan(0, n).SequenceEqual(sent.AsSpan((int)total, n)), Is.True, $"bytes {total}..{total + n} differ");
                total += n;
            }

            await sending.Timeout();
            Assert.That(total, Is.EqualTo(Total));
            int answered = ((LinuxEngineSocket)server.EngineSocket).Backlog.WaitsAnswered;
            TestContext.Out.WriteLine($"{engine.Name}, {dispatch}: {answered} of {waits} zero-byte waits answered without a syscall");

            // The sender runs ahead of this reader (4 MiB against a few hundred KiB of socket
            // buffers), so most receives leave bytes behind; a reader that always caught up
            // exactly would see none, which a busy machine could make of a few.
            Assert.That(answered, Is.GreaterThan(waits / 4), "the waits after receives that left bytes still made their syscalls");
        }
    }
}
