using System;
using System.IO;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    private static string WriteTempFile(byte[] content)
    {
        string path = Path.Combine(Path.GetTempPath(), $"px-file-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, content);
        return path;
    }

    [Test]
    public async Task SendFile_sends_a_file_larger_than_the_socket_buffers_byte_exact()
    {
        byte[] content = Net.Pattern(3 * 1024 * 1024 + 17, seed: 31);
        string path = WriteTempFile(content);
        try
        {
            var (client, server) = await Net.ConnectedPairAsync(Engine);
            using (client)
            using (server)
            {
                Task<long> send = client.SendFileAsync(path).AsTask();
                byte[] got = new byte[content.Length];
                await Net.ReceiveExactlyAsync(server, got).Timeout();
                Assert.That(await send.Timeout(), Is.EqualTo(content.Length));
                Assert.That(got, Is.EqualTo(content));

                // What follows on the socket comes after the file, in order.
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

    [TestCase(0L, 0L)]
    [TestCase(1L, 1L)]
    [TestCase(70_000L, 200_000L)]
    [TestCase(123_457L, -1L)]
    public async Task SendFile_sends_exactly_the_range_asked_from_a_path_and_from_a_handle(long offset, long count)
    {
        byte[] content = Net.Pattern(400_000, seed: 32);
        string path = WriteTempFile(content);
        try
        {
            long expected = count == -1 ? content.Length - offset : count;
            byte[] range = content.AsSpan((int)offset, (int)expected).ToArray();
            var (client, server) = await Net.ConnectedPairAsync(Engine);
            using (client)
            using (server)
            using (var file = File.OpenHandle(path))
            {
                foreach (Func<ValueTask<long>> send in new Func<ValueTask<long>>[]
                {
                    () => client.SendFileAsync(path, offset, count),
                    () => client.SendFileAsync(file, offset, count),
                })
                {
                    Task<long> sending = send().AsTask();
                    byte[] got = new byte[range.Length];
                    await Net.ReceiveExactlyAsync(server, got).Timeout();
                    Assert.That(await sending.Timeout(), Is.EqualTo(expected));
                    Assert.That(got, Is.EqualTo(range));
                }

                Assert.That(file.IsClosed, Is.False, "a caller's handle stays open");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task SendFile_refuses_bad_arguments_at_once_and_leaks_nothing()
    {
        string path = WriteTempFile(new byte[100]);
        try
        {
            var (client, server) = await Net.ConnectedPairAsync(Engine);
            using (client)
            using (server)
            using (var file = File.OpenHandle(path))
            {
                Assert.Throws<ArgumentNullException>(() => _ = client.SendFileAsync((string)null!));
                Assert.Throws<ArgumentException>(() => _ = client.SendFileAsync(""));
                Assert.Throws<FileNotFoundException>(() => _ = client.SendFileAsync(path + ".missing"));
                Assert.Throws<ArgumentOutOfRangeException>(() => _ = client.SendFileAsync(path, -1, 10));
                Assert.Throws<ArgumentOutOfRangeException>(() => _ = client.SendFileAsync(path, 0, -2));
                Assert.Throws<ArgumentOutOfRangeException>(() => _ = client.SendFileAsync(path, 101, 0));
                var beyond = Assert.Throws<ArgumentOutOfRangeException>(() => _ = client.SendFileAsync(file, 50, 51));
                Assert.That(beyond!.Message, Does.Contain("100-byte file"));
                Assert.Throws<ArgumentNullException>(() => _ = client.SendFileAsync((Microsoft.Win32.SafeHandles.SafeFileHandle)null!, 0, 0));

                using ProactorSocket listener = Net.Listen(Engine);
                Assert.Throws<InvalidOperationException>(() => _ = listener.SendFileAsync(path));

                // Nothing was sent by the refused calls, and the file is not held open by them.
                await client.SendAsync(new byte[] { 9 }).Timeout();
                byte[] one = new byte[1];
                await Net.ReceiveExactlyAsync(server, one).Timeout();
                Assert.That(one[0], Is.EqualTo(9));
            }

            File.Delete(path); // on Windows this fails if a refused call left the file open
            Assert.That(File.Exists(path), Is.False);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task Closing_the_socket_during_SendFile_ends_it_with_OperationAborted()
    {
        byte[] content = Net.Pattern(16 * 1024 * 1024, seed: 33); // far beyond what the peer's buffers hold unread
        string path = WriteTempFile(content);
        try
        {
            var (client, server) = await Net.ConnectedPairAsync(Engine);
            using (server)
            {
                Task<long> send = client.SendFileAsync(path).AsTask();
                await Task.Delay(100); // let it fill the buffers and wait for room (not a timing assertion)
                Assert.That(send.IsCompleted, Is.False, "nobody reads, so the file cannot have gone");
                client.Dispose();
                var e = await Expect.ThrowsAsync<SocketException>(async () => await send.Timeout());
                Assert.That(e!.SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));
            }

            File.Delete(path); // the transfer closed its file
            Assert.That(File.Exists(path), Is.False);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
