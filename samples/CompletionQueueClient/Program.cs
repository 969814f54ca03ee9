using System.Net;
using System.Net.Sockets;
using System.Text;
using Proactor;

// A client that wants completions, not awaits: it submits a connect, sends and receives on one
// CompletionQueue and handles each Completion as it arrives, matched by its user token.
//   dotnet run --project samples/CompletionQueueClient -- [host:port]   talks to an echo server (samples/EchoServer)
//   dotnet run --project samples/CompletionQueueClient -- --demo        starts a System.Net.Sockets echo server itself
bool demo = args.Contains("--demo") || args.Length == 0;
using var echo = demo ? new TcpListener(IPAddress.Loopback, 0) : null;
IPEndPoint server;
if (echo is not null)
{
    echo.Start();
    _ = EchoOnceAsync(echo);
    server = (IPEndPoint)echo.LocalEndpoint;
}
else
{
    server = IPEndPoint.Parse(args[0]);
}

using ProactorEngine engine = EngineFactory.Create();
CompletionQueue queue = engine.CreateCompletionQueue(singleReader: true);
using var socket = new ProactorSocket(engine, server.AddressFamily);
string[] messages = ["one", "two", "three"];
byte[] receiveBuffer = new byte[64];
int expected = messages.Sum(m => m.Length);
int received = 0;

queue.SubmitConnect(socket, server, userToken: "connect");
await foreach (Completion c in queue.Reader.ReadAllAsync())
{
    Console.WriteLine($"completion {c.Kind} token={c.UserToken} bytes={c.BytesTransferred} error={c.Error}");
    if (c.Error != SocketError.Success)
    {
        return 1;
    }

    switch (c.Kind)
    {
        case OperationKind.Connect:
            // Every accepted submit posts exactly one completion, so the loop can count on them.
            foreach (string message in messages)
            {
                queue.SubmitSend(socket, Encoding.ASCII.GetBytes(message), userToken: $"send {message}");
            }

            queue.SubmitReceive(socket, receiveBuffer, userToken: "receive");
            break;
        case OperationKind.Receive when c.BytesTransferred == 0:
            Console.WriteLine("the server closed early");
            return 1;
        case OperationKind.Receive:
            received += c.BytesTransferred;
            if (received < expected)
            {
                queue.SubmitReceive(socket, receiveBuffer.AsMemory(received), userToken: "receive");
            }
            else
            {
                Console.WriteLine($"echoed: {Encoding.ASCII.GetString(receiveBuffer, 0, received)}");
                queue.Complete();
            }

            break;
    }
}

return 0;

static async Task EchoOnceAsync(TcpListener listener)
{
    using TcpClient client = await listener.AcceptTcpClientAsync();
    NetworkStream stream = client.GetStream();
    byte[] buffer = new byte[1024];
    int n;
    while ((n = await stream.ReadAsync(buffer)) > 0)
    {
        await stream.WriteAsync(buffer.AsMemory(0, n));
    }
}
