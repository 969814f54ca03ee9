using System;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>
/// An accepted connection on Linux runs on its bare descriptor: the options servers set per
/// connection go straight to it, and a runtime Socket (over a duplicate descriptor) is made only
/// when something needs one. Whatever path a call takes, it must act on the same connection, and
/// closing must end the connection whichever descriptors exist. The same cases hold on every
/// backend (where the accepted connection has its runtime Socket from the start).
/// </summary>
public abstract partial class ConformanceTests
{
    // IPPROTO_TCP and TCP_NODELAY have the same values on Linux and Windows.
    private const int IpProtoTcp = 6;
    private const int TcpNoDelay = 1;

    [Test]
    public async Task An_accepted_connections_options_reach_the_OS_socket_that_the_handle_names_too()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            server.NoDelay = true;
            server.KeepAlive = true;
            server.ReceiveBufferSize = 32 * 1024;
            Assert.That(server.NoDelay, Is.True);
            Assert.That(server.KeepAlive, Is.True);
            Assert.That(server.ReceiveBufferSize, Is.GreaterThanOrEqualTo(32 * 1024), "the OS may double it, never shrink it");
            Assert.That((int)server.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.NoDelay)!, Is.Not.Zero);

            // Read back through the handle (on Linux a runtime Socket made on first use): the same socket.
            Assert.That(RawNoDelay(server), Is.True, "TCP_NODELAY as the OS socket has it");
            server.NoDelay = false;
            Assert.That(RawNoDelay(server), Is.False, "cleared once the handle exists too");
            Assert.That(server.NoDelay, Is.False);

            // Still one connection, both ways.
            await AssertCarriesBytesAsync(client, server);
            await AssertCarriesBytesAsync(server, client);
        }
    }

    /// <summary>TCP_NODELAY read as raw bytes: 4 on Linux, a single byte under Wine.</summary>
    private static bool RawNoDelay(ProactorSocket socket)
    {
        byte[] value = new byte[4];
        int length = socket.GetRawSocketOption(IpProtoTcp, TcpNoDelay, value);
        Assert.That(length, Is.InRange(1, 4), "the option's size");
        return Array.Exists(value[..length], b => b != 0);
    }

    [Test]
    public async Task Disposing_an_accepted_connection_whose_handle_was_taken_ends_the_connection()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        {
            Assert.That(server.SafeHandle.IsInvalid, Is.False);
            Assert.That(server.LocalEndPoint, Is.EqualTo(client.RemoteEndPoint));
            Assert.That(server.RemoteEndPoint, Is.EqualTo(client.LocalEndPoint));
            await AssertCarriesBytesAsync(client, server);
            server.Dispose();

            // An orderly end: no descriptor of the connection stays open behind the dispose.
            Assert.That(await client.ReceiveAsync(new byte[1]).Timeout(), Is.Zero, "the peer saw the end of the stream");
            Assert.Throws<ObjectDisposedException>(() => _ = server.NoDelay);
        }
    }

    [Test]
    public async Task Shutting_down_an_accepted_connection_ends_one_direction_only()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            server.Shutdown(SocketShutdown.Send);
            Assert.That(await client.ReceiveAsync(new byte[1]).Timeout(), Is.Zero, "the client saw our FIN");
            Assert.That(server.Connected, Is.False, "as Socket.Connected after Shutdown");
            await AssertCarriesBytesAsync(client, server); // the other direction still carries bytes
        }
    }
}
