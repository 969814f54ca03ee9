using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    [Test]
    public async Task A_peer_reset_surfaces_as_ConnectionReset_and_the_engine_keeps_serving()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (server)
        {
            ValueTask<int> receive = server.ReceiveAsync(new byte[16]);
            client.LingerState = new LingerOption(true, 0); // close sends RST
            client.Dispose();

            var e = await Expect.ThrowsAsync<SocketException>(async () => await receive.Timeout());
            Assert.That(e!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionReset));
        }

        await AssertEngineStillEchoesAsync();
    }

    [TestCase(AddressFamily.InterNetwork)]
    [TestCase(AddressFamily.InterNetworkV6)]
    public async Task Connecting_to_a_closed_port_is_refused(AddressFamily family)
    {
        using var client = new ProactorSocket(Engine, family);
        var e = await Expect.ThrowsAsync<SocketException>(async () => await client.ConnectAsync(Net.ClosedPort(family)).Timeout());
        Assert.That(e!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused));
        await AssertEngineStillEchoesAsync();
    }

    [Test]
    public async Task Sending_after_the_peer_reset_fails_with_a_socket_error()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        {
            server.LingerState = new LingerOption(true, 0);
            server.Dispose();
            await Task.Delay(50);

            // The first send may still be accepted by the local stack; a later one must fail.
            var e = await Expect.ThrowsAsync<SocketException>(async () =>
            {
                for (int i = 0; i < 100; i++)
                {
                    await client.SendAsync(new byte[1024]).Timeout();
                    await Task.Delay(10);
                }
            });
            Assert.That(e!.SocketErrorCode, Is.AnyOf(SocketError.ConnectionReset, SocketError.Shutdown, SocketError.ConnectionAborted));
        }
    }

    /// <summary>Proves the engine is still healthy after an error elsewhere.</summary>
    protected async Task AssertEngineStillEchoesAsync()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            await client.SendAsync(new byte[] { 42, 43 }).Timeout();
            byte[] got = new byte[2];
            await Net.ReceiveExactlyAsync(server, got);
            Assert.That(got, Is.EqualTo(new byte[] { 42, 43 }), "the engine stopped serving other sockets");
        }
    }
}
