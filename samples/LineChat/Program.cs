using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Proactor;

// A line chat: each client's lines go to every other client, read and written through
// ProactorStream with StreamReader/StreamWriter as with any Stream.
//   dotnet run --project samples/LineChat -- [port]     serves until Ctrl+C (try: nc 127.0.0.1 5001)
//   dotnet run --project samples/LineChat -- --demo     two clients, alice and bob, chat, then exit
bool demo = args.Contains("--demo");
int port = demo ? 0 : args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5001;

using ProactorEngine engine = EngineFactory.Create();
using ProactorSocket listener = ProactorSocket.CreateListener(engine, new IPEndPoint(IPAddress.Loopback, port));
var room = new ConcurrentDictionary<int, Peer>();
Console.WriteLine($"chat on {listener.LocalEndPoint} ({engine.Backend})");
Task server = AcceptLoopAsync(listener, room);

if (!demo)
{
    await server;
    return 0;
}

var endPoint = (IPEndPoint)listener.LocalEndPoint!;
using var alice = new TcpClient();
using var bob = new TcpClient();
await alice.ConnectAsync(endPoint);
await bob.ConnectAsync(endPoint);
var aliceWriter = new StreamWriter(alice.GetStream()) { AutoFlush = true, NewLine = "\n" };
var bobWriter = new StreamWriter(bob.GetStream()) { AutoFlush = true, NewLine = "\n" };
var aliceReader = new StreamReader(alice.GetStream());
var bobReader = new StreamReader(bob.GetStream());
await aliceWriter.WriteLineAsync("name alice");
await bobWriter.WriteLineAsync("name bob");
Console.WriteLine($"alice got: {await aliceReader.ReadLineAsync()}");
Console.WriteLine($"bob got: {await bobReader.ReadLineAsync()}");
await aliceWriter.WriteLineAsync("hello bob");
Console.WriteLine($"bob got: {await bobReader.ReadLineAsync()}");
await bobWriter.WriteLineAsync("hi alice");
Console.WriteLine($"alice got: {await aliceReader.ReadLineAsync()}");
return 0;

static async Task AcceptLoopAsync(ProactorSocket listener, ConcurrentDictionary<int, Peer> room)
{
    int next = 0;
    while (true)
    {
        ProactorSocket connection = await listener.AcceptAsync();
        _ = ChatAsync(connection, Interlocked.Increment(ref next), room);
    }
}

// The first line names the client; every later line goes to all others as "name: line".
static async Task ChatAsync(ProactorSocket connection, int id, ConcurrentDictionary<int, Peer> room)
{
    await using var stream = new ProactorStream(connection, ownsSocket: true);
    using var reader = new StreamReader(stream, Encoding.UTF8);
    await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
    try
    {
        string? first = await reader.ReadLineAsync();
        string name = first is not null && first.StartsWith("name ", StringComparison.Ordinal) ? first[5..] : $"guest{id}";
        // In the room before the welcome: a client that has read its welcome hears every later line.
        using var peer = new Peer(writer);
        room[id] = peer;
        await peer.SendAsync($"welcome {name}");
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null)
        {
            foreach ((int other, Peer listener) in room)
            {
                if (other != id)
                {
                    await listener.SendAsync($"{name}: {line}");
                }
            }
        }
    }
    catch (IOException e)
    {
        Console.WriteLine($"client {id} left: {e.Message}");
    }
    finally
    {
        room.TryRemove(id, out _);
    }
}

// One writer per connection, written from several chats at once: one line at a time.
internal sealed class Peer(StreamWriter writer) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task SendAsync(string line)
    {
        await _gate.WaitAsync();
        try
        {
            await writer.WriteLineAsync(line);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
