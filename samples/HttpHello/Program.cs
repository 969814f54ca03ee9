using System.Net;
using System.Text;
using Proactor;

// "Hello, world" over HTTP/1.1 on raw Proactor sockets: read a request head, answer it, keep the
// connection alive. No HTTP library: it shows the socket API, not a web server.
//   dotnet run --project samples/HttpHello -- [port]     serves until Ctrl+C (try: curl http://127.0.0.1:8080/)
//   dotnet run --project samples/HttpHello -- --demo     answers two requests from HttpClient, exits
bool demo = args.Contains("--demo");
int port = demo ? 0 : args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 8080;

using ProactorEngine engine = EngineFactory.Create();
using ProactorSocket listener = ProactorSocket.CreateListener(engine, new IPEndPoint(IPAddress.Loopback, port));
Console.WriteLine($"http on {listener.LocalEndPoint} ({engine.Backend})");
Task server = AcceptLoopAsync(listener);

if (!demo)
{
    await server;
    return 0;
}

using var http = new HttpClient { BaseAddress = new Uri($"http://{listener.LocalEndPoint}/") };
for (int i = 0; i < 2; i++)
{
    using HttpResponseMessage response = await http.GetAsync(new Uri("hello", UriKind.Relative));
    string body = await response.Content.ReadAsStringAsync();
    Console.WriteLine($"GET /hello -> {(int)response.StatusCode} {body}");
}

return 0;

static async Task AcceptLoopAsync(ProactorSocket listener)
{
    while (true)
    {
        ProactorSocket connection = await listener.AcceptAsync();
        connection.NoDelay = true;
        _ = ServeAsync(connection);
    }
}

static async Task ServeAsync(ProactorSocket connection)
{
    byte[] response = Encoding.ASCII.GetBytes(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!");
    using (connection)
    {
        byte[] buffer = new byte[8192];
        int filled = 0;
        while (true)
        {
            int n = await connection.ReceiveAsync(buffer.AsMemory(filled));
            if (n == 0)
            {
                return; // the client closed
            }

            filled += n;
            // Answer every complete request head in the buffer (a client may pipeline), keep the rest.
            int end;
            while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) >= 0)
            {
                await connection.SendAsync(response);
                int consumed = end + 4;
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }

            if (filled == buffer.Length)
            {
                return; // a head larger than the buffer: not served by this sample
            }
        }
    }
}
