using System.Net;
using System.Net.Sockets;
using System.Text;
using Proactor;

// Echoes one line through the default engine of this OS and says which backend and which
// Proactor assemblies the process loaded; exits non-zero if the echo differs.
using ProactorEngine engine = EngineFactory.Create();
using ProactorSocket listener = ProactorSocket.CreateListener(engine, new IPEndPoint(IPAddress.Loopback, 0));
using var client = new ProactorSocket(engine, AddressFamily.InterNetwork);
ValueTask<ProactorSocket> accept = listener.AcceptAsync();
await client.ConnectAsync(listener.LocalEndPoint!);
using ProactorSocket server = await accept;

byte[] message = Encoding.ASCII.GetBytes("hello from a package consumer");
await client.SendAsync(message);
byte[] buffer = new byte[256];
int n = 0;
while (n < message.Length)
{
    int r = await server.ReceiveAsync(buffer.AsMemory(n));
    if (r == 0)
    {
        break;
    }

    n += r;
}

string echoed = Encoding.ASCII.GetString(buffer, 0, n);
Console.WriteLine($"backend {engine.Backend} ({engine.Name}) fallback: {engine.FallbackReason ?? "none"}");
Console.WriteLine($"echoed '{echoed}'");
Console.WriteLine("assemblies " + string.Join(",", AppDomain.CurrentDomain.GetAssemblies()
    .Select(a => a.GetName().Name)
    .Where(name => name is not null && name.StartsWith("Proactor", StringComparison.Ordinal))
    .Order(StringComparer.Ordinal)));
return echoed == Encoding.ASCII.GetString(message) ? 0 : 1;
