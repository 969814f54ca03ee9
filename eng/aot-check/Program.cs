using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using Proactor;

// Echoes one message on every Linux backend through the awaitable socket, the stream and the
// completion queue; prints one line per backend and exits non-zero on any mismatch.
byte[] hello = Encoding.ASCII.GetBytes("hello from native code");
int failures = 0;
foreach (BackendKind kind in new[] { BackendKind.Default, BackendKind.Epoll, BackendKind.Poll, BackendKind.Select, BackendKind.IoUring })
{
    try
    {
        using ProactorEngine engine = EngineFactory.Create(new EngineOptions { Backend = kind });
        string echoed = await EchoAsync(engine, hello);
        bool ok = echoed == Encoding.ASCII.GetString(hello);
        failures += ok ? 0 : 1;
        Console.WriteLine($"{(ok ? "ok" : "MISMATCH")} {kind} {engine.Name}: '{echoed}'");
    }
    catch (NotSupportedException e)
    {
        // io_uring refused by this kernel: not this program's concern; say so.
        Console.WriteLine($"unavailable {kind}: {e.Message}");
    }
}

return failures == 0 ? 0 : 1;

static async Task<string> EchoAsync(ProactorEngine engine, byte[] message)
{
    using ProactorSocket listener = ProactorSocket.CreateListener(engine, new IPEndPoint(IPAddress.Loopback, 0));
    using var client = new ProactorSocket(engine, AddressFamily.InterNetwork);
    ValueTask<ProactorSocket> accept = listener.AcceptAsync();
    await client.ConnectAsync(listener.LocalEndPoint!);
    using ProactorSocket server = await accept;
    await using var stream = new ProactorStream(server);

    CompletionQueue queue = engine.CreateCompletionQueue();
    queue.SubmitSend(client, message, userToken: "send");
    Completion sent = await queue.Reader.ReadAsync();
    if (sent.Error != SocketError.Success || sent.BytesTransferred != message.Length || (string?)sent.UserToken != "send")
    {
        return $"completion {sent}";
    }

    byte[] buffer = new byte[256];
    int n = 0;
    while (n < message.Length)
    {
        n += await stream.ReadAsync(buffer.AsMemory(n));
    }

    await stream.WriteAsync(buffer.AsMemory(0, n));
    int m = 0;
    while (m < n)
    {
        m += await client.ReceiveAsync(buffer.AsMemory(m));
    }

    return Encoding.ASCII.GetString(buffer, 0, m);
}
