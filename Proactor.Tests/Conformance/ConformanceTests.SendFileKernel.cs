using System;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

// File sending through the kernel (sendfile on the emulated engines) and its read+send fallback.
public abstract partial class ConformanceTests
{
    // The backends whose sockets send files in the kernel; the others read and send.
    private bool KernelFileSend(ProactorSocket socket) => socket.EngineSocket.SupportsFileSend;

    [Test]
    public async Task SendFile_goes_through_the_kernel_where_the_backend_can()
    {
        byte[] content = Net.Pattern(3 * 1024 * 1024 + 5, seed: 41);
        string path = WriteTempFile(content);
        try
        {
            var (client, server) = await Net.ConnectedPairAsync(Engine);
            using (client)
            using (server)
            {
                long callsBefore = Engine.Statistics.FileSendCalls;
                long sendsBefore = Engine.Statistics.Started(OperationKind.Send);
                Task<long> send = client.SendFileAsync(path).AsTask();
                byte[] got = new byte[content.Length];
                await Net.ReceiveExactlyAsync(server, got).Timeout();
                Assert.That(await send.Timeout(), Is.EqualTo(content.Length));
                Assert.That(got, Is.EqualTo(content));

                long calls = Engine.Statistics.FileSendCalls - callsBefore;
                bool expected = Engine.Backend is BackendKind.Epoll or BackendKind.Poll or BackendKind.Select;
                Assert.That(KernelFileSend(client), Is.EqualTo(expected), "which backends send files in the kernel");
                if (expected)
                {
                    // Each call moves what the socket buffer takes (far more than a 64 KiB read+send chunk).
                    Assert.That(calls, Is.InRange(1, content.Length / (64 * 1024)), "sendfile calls for the file");
                    Assert.That(Engine.Statistics.Started(OperationKind.Send) - sendsBefore, Is.EqualTo(1),
                        "one send operation carried the whole file (read+send takes one per 64 KiB)");
                }
                else
                {
                    Assert.That(calls, Is.Zero, "this backend reads and sends");
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task SendFile_keeps_its_place_among_the_sends_around_it()
    {
        byte[] before = Net.Pattern(200_000, seed: 42);
        byte[] content = Net.Pattern(4 * 1024 * 1024, seed: 43);
        byte[] after = Net.Pattern(200_000, seed: 44);
        string path = WriteTempFile(content);
        try
        {
            var (client, server) = await Net.ConnectedPairAsync(Engine);
            using (client)
            using (server)
            {
                if (!KernelFileSend(client))
                {
                    Assert.Ignore("This backend reads the file before each send, so a send submitted meanwhile may come first (docs/unix-sockets-and-files.md).");
                }

                // Nobody reads yet: the first send fills the buffers, so the file and the last send queue.
                Task<int> first = client.SendAsync(before).AsTask();
                Task<long> file = client.SendFileAsync(path).AsTask();
                Task<int> last = client.SendAsync(after).AsTask();

                byte[] got = new byte[before.Length + content.Length + after.Length];
                await Net.ReceiveExactlyAsync(server, got).Timeout();
                Assert.That(await first.Timeout(), Is.EqualTo(before.Length));
                Assert.That(await file.Timeout(), Is.EqualTo(content.Length));
                Assert.That(await last.Timeout(), Is.EqualTo(after.Length));
                Assert.That(got.AsSpan(0, before.Length).SequenceEqual(before), "the send before the file comes first");
                Assert.That(got.AsSpan(before.Length, content.Length).SequenceEqual(content), "then the file");
                Assert.That(got.AsSpan(before.Length + content.Length).SequenceEqual(after), "then the send after it");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task Cancelling_SendFile_mid_transfer_ends_it_once_and_the_socket_sends_on()
    {
        byte[] content = Net.Pattern(32 * 1024 * 1024, seed: 45); // far beyond what the buffers hold unread
        string path = WriteTempFile(content);
        try
        {
            var (client, server) = await Net.ConnectedPairAsync(Engine);
            using (client)
            using (server)
            using (var cts = new CancellationTokenSource())
            {
                long cancelledBefore = Engine.Statistics.Completed(OperationKind.Send, OperationResult.Cancelled);
                Task<long> send = client.SendFileAsync(path, cts.Token).AsTask();
                await Task.Delay(100); // let it fill the buffers and wait for room (not a timing assertion)
                Assert.That(send.IsCompleted, Is.False, "nobody reads, so the file cannot have gone");
                cts.Cancel();
                await Expect.ThrowsAsync<OperationCanceledException>(async () => await send.Timeout());
                if (KernelFileSend(client))
                {
                    Assert.That(Engine.Statistics.Completed(OperationKind.Send, OperationResult.Cancelled) - cancelledBefore,
                        Is.EqualTo(1), "the file send completed once, cancelled");
                }

                // The direction is free again: a later send goes, after the prefix of the file that went.
                Task<byte[]> receiving = Net.ReceiveToEndAsync(server, content.Length);
                await client.SendAsync(new byte[] { 0xEE }).Timeout();
                client.Shutdown(SocketShutdown.Send);
                byte[] got = await receiving.Timeout();
                Assert.That(got, Is.Not.Empty);
                Assert.That(got[^1], Is.EqualTo(0xEE), "the later send comes last");
                Assert.That(got.Length - 1, Is.LessThan(content.Length), "the transfer stopped");
                Assert.That(got.AsSpan(0, got.Length - 1).SequenceEqual(content.AsSpan(0, got.Length - 1)), "what went is the file's prefix");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task SendFile_falls_back_to_read_and_send_when_the_kernel_refuses()
    {
        byte[] content = Net.Pattern(1024 * 1024 + 3, seed: 46);
        string path = WriteTempFile(content);
        try
        {
            var (client, server) = await Net.ConnectedPairAsync(Engine);
            using (client)
            using (server)
            {
                client.EngineSocket.SimulateFileSendUnsupported = true; // as sendfile's EINVAL on a file system without splice
                long callsBefore = Engine.Statistics.FileSendCalls;
                Task<long> send = client.SendFileAsync(path, 1000, content.Length - 2000).AsTask();
                byte[] got = new byte[content.Length - 2000];
                await Net.ReceiveExactlyAsync(server, got).Timeout();
                Assert.That(await send.Timeout(), Is.EqualTo(got.Length));
                Assert.That(got.AsSpan().SequenceEqual(content.AsSpan(1000, got.Length)), "the range, byte-exact");
                Assert.That(Engine.Statistics.FileSendCalls - callsBefore, Is.EqualTo(KernelFileSend(client) ? 1 : 0),
                    "one refused kernel attempt, then read+send");

                await client.SendAsync(new byte[] { 0xEE }).Timeout();
                byte[] tail = new byte[1];
                await Net.ReceiveExactlyAsync(server, tail).Timeout();
                Assert.That(tail[0], Is.EqualTo(0xEE));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
