using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Proactor.Tests;

/// <summary>
/// Runs once before any test: lets the runtime create its lazily made, process-lifetime
/// descriptors (System.Net.Sockets' own event loop, symbol files for stack traces) so that the
/// per-test leak check sees only what a test and its engine opened.
/// </summary>
[SetUpFixture]
public sealed class ProcessWarmUp
{
    [OneTimeSetUp]
    public async Task WarmUp()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Task<Socket> accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!);
        using Socket server = await accept;
        await client.SendAsync(new byte[1]);
        await server.ReceiveAsync(new byte[1]);
        try
        {
            throw new SocketException((int)SocketError.ConnectionReset);
        }
        catch (SocketException e)
        {
            _ = e.ToString();
        }
    }
}
