using System.Net;
using System.Net.Sockets;
using System.Text;
using Proactor;

// An echo server on the default engine of this OS: every connection gets its bytes back.
//   dotnet run --project samples/EchoServer -- [port]     serves until Ctrl+C (default port 5000)
//   dotnet run --project samples/EchoServer -- --demo     serves on a free port, echoes three
//                                                         messages from a System.Net.Sockets client, exits
bool demo = args.Contains("--demo");
int port = demo ? 0 : args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5000;

using ProactorEngine engine = EngineFactory.Create();
using ProactorSocket listener = ProactorSocket.CreateListener(engine, new IPEndPoint(IPAddress.Loopback, port));
Console.WriteLine($"echo server on {listener.LocalEndPoint} ({engine.Backend})");
Task server = AcceptLoopAsync(listener);

if (!demo)
{
    await server;
    return 0;
}

using var client = new TcpClient();
await client.ConnectAsync((IPEndPoint)listener.LocalEndPoint!);
NetworkStream stream = client.GetStream();
byte[] reply = new byte[64];
for (int i = 1; i <= 3; i++)
{
    byte[] message = Encoding.ASCII.GetBytes($"ping {i}");
    await stream.WriteAsync(message);
    await stream.ReadExactlyAsync(reply.AsMemory(0, message.Length));
    Console.WriteLine($"echoed: {Encoding.ASCII.GetString(reply, 0, message.Length)}");
}

return 0;

static async Task AcceptLoopAsync(ProactorSocket listener)
{
    while (true)
    {
        ProactorSocket connection = await listener.AcceptAsync();
        _ = EchoAsync(connection);
    }
}

static async Task EchoAsync(ProactorSocket connection)
{
    using (connection)
    {
        byte[] buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await connection.ReceiveAsync(buffer)) > 0)
            {
                await connection.SendAsync(buffer.AsMemory(0, n)); // completes when every byte is written
            }
        }
        catch (SocketException e)
        {
            Console.WriteLine($"connection ended: {e.SocketErrorCode}");
        }
    }
}
