using System;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    [Test]
    public async Task Connected_follows_Socket_connect_accept_shutdown_and_dispose()
    {
        using ProactorSocket listener = Net.Listen(Engine);
        var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        Assert.That(client.Connected, Is.False, "before the connect");
        Assert.That(listener.Connected, Is.False, "a listener");
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!).Timeout();
        ProactorSocket server = await accept.Timeout();
        Assert.That(client.Connected, Is.True, "after the connect");
        Assert.That(server.Connected, Is.True, "after the accept");

        client.Shutdown(SocketShutdown.Send); // Socket.Connected is false after any Shutdown
        Assert.That(client.Connected, Is.False, "after Shutdown");
        Assert.That(await server.ReceiveAsync(new byte[1]).Timeout(), Is.Zero);
        Assert.That(server.Connected, Is.True, "the peer's orderly close does not change it");
        server.Dispose();
        Assert.That(server.Connected, Is.False, "after Dispose");
        client.Dispose();
    }

    [Test]
    public async Task Connected_turns_false_when_an_operation_fails_with_a_connection_error()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        {
            ValueTask<int> receive = client.ReceiveAsync(new byte[4]);
            server.LingerState = new LingerOption(true, 0);
            server.Dispose();
            var e = await Expect.ThrowsAsync<SocketException>(async () => await receive.Timeout());
            Assert.That(e!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionReset));
            Assert.That(client.Connected, Is.False);
            client.Shutdown(SocketShutdown.Both); // still no error after the reset, as before
        }

        var (c2, s2) = await Net.ConnectedPairAsync(Engine);
        using (c2)
        using (s2)
        {
            var e = await Expect.ThrowsAsync<SocketException>(async () => await c2.ReceiveAsync(new byte[4], TimeSpan.FromMilliseconds(50)).Timeout());
            Assert.That(e!.SocketErrorCode, Is.EqualTo(SocketError.TimedOut));
            Assert.That(c2.Connected, Is.True, "a timeout is no connection error");
        }
    }

    [Test]
    public async Task Available_counts_received_bytes_not_yet_read()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            Assert.That(server.Available, Is.Zero);
            await client.SendAsync(new byte[5]).Timeout();
            await server.ReceiveAsync(Memory<byte>.Empty).Timeout(); // data is there
            for (int i = 0; i < 500 && server.Available < 5; i++)
            {
                await Task.Delay(10);
            }

            Assert.That(server.Available, Is.EqualTo(5));
            await Net.ReceiveExactlyAsync(server, new byte[5]).Timeout();
            Assert.That(server.Available, Is.Zero);
        }
    }

    [Test]
    public void Blocking_stays_false_and_refuses_true_with_a_clear_message()
    {
        using var socket = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        Assert.That(socket.Blocking, Is.False);
        socket.Blocking = false;
        var e = Assert.Throws<NotSupportedException>(() => socket.Blocking = true);
        Assert.That(e!.Message, Does.Contain("non-blocking"));
        Assert.That(socket.Blocking, Is.False);
    }

    [Test]
    public void Raw_socket_options_read_what_was_set()
    {
        using var socket = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        (int level, int keepAlive) = OperatingSystem.IsWindows() ? (0xffff, 0x0008) : (1, 9); // SOL_SOCKET, SO_KEEPALIVE
        Span<byte> value = stackalloc byte[4];
        BitConverter.TryWriteBytes(value, 1);
        socket.SetRawSocketOption(level, keepAlive, value);
        Assert.That(socket.KeepAlive, Is.True);
        value.Clear();
        int length = socket.GetRawSocketOption(level, keepAlive, value);
        Assert.That(length, Is.GreaterThanOrEqualTo(1));
        Assert.That(value[0], Is.Not.Zero);
        socket.KeepAlive = false;
        Assert.That(socket.GetRawSocketOption(level, keepAlive, value), Is.EqualTo(length));
        Assert.That(BitConverter.ToInt32(value), Is.Zero);
    }

    [Test]
    public async Task Disposed_sockets_and_engines_name_the_public_type()
    {
        var socket = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        socket.Dispose();
        var e1 = Assert.Throws<ObjectDisposedException>(() => _ = socket.ReceiveAsync(new byte[1]));
        Assert.That(e1!.ObjectName, Is.EqualTo("ProactorSocket"));
        Assert.Throws<ObjectDisposedException>(() => _ = socket.ConnectAsync("localhost", 1));
        Assert.Throws<ObjectDisposedException>(() => _ = socket.SendFileAsync("no-such-file", 0, 0));

        ProactorEngine second = CreateSecondEngine();
        await second.DisposeAsync().AsTask().Timeout();
        Assert.That(second.IsDisposed, Is.True);
        var e2 = Assert.Throws<ObjectDisposedException>(() => _ = new ProactorSocket(second, AddressFamily.InterNetwork));
        Assert.That(e2!.ObjectName, Is.EqualTo("ProactorEngine"));
        Assert.That(e2.Message, Does.Contain(second.Name).And.Not.Contain("`"));
        var e3 = Assert.Throws<ObjectDisposedException>(() => second.CreateCompletionQueue());
        Assert.That(e3!.ObjectName, Is.EqualTo("ProactorEngine"));
    }

    [Test]
    public async Task A_connected_Socket_wrapped_into_a_ProactorSocket_carries_bytes_and_is_owned()
    {
        using ProactorSocket listener = Net.Listen(Engine);
        var plain = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        plain.Connect(listener.LocalEndPoint!); // a blocking connect: no async state in the runtime
        using ProactorSocket server = await accept.Timeout();

        ProactorSocket wrapped = ProactorSocket.FromSocket(Engine, plain);
        Assert.That(wrapped.Connected, Is.True);
        Assert.That(wrapped.Blocking, Is.False);
        await AssertCarriesBytesAsync(wrapped, server);
        await AssertCarriesBytesAsync(server, wrapped);

        await wrapped.DisposeAsync();
        await WaitUntilAsync(() => plain.SafeHandle.IsClosed, "the ProactorSocket owned the Socket and closed it"); // io_uring: on its ring thread
        Assert.That(await server.ReceiveAsync(new byte[1]).Timeout(), Is.Zero, "closing the wrapper closed the connection");
    }

    [Test]
    public async Task A_listening_Socket_handle_wrapped_into_a_ProactorSocket_accepts()
    {
        var plain = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        plain.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        plain.Listen();
        using ProactorSocket listener = ProactorSocket.FromSafeSocketHandle(Engine, plain.SafeHandle);
        Assert.That(listener.IsListening, Is.True);
        using var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        ValueTask<ProactorSocket> accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!).Timeout();
        using ProactorSocket server = await accept.Timeout();
        await AssertCarriesBytesAsync(client, server);
    }

    [Test]
    public void Wrapping_refuses_what_it_cannot_own_and_leaves_it_to_the_caller()
    {
        using var datagram = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var e = Assert.Throws<ArgumentException>(() => ProactorSocket.FromSocket(Engine, datagram));
        Assert.That(e!.Message, Does.Contain("Dgram"));
        Assert.That(datagram.SafeHandle.IsClosed, Is.False, "a refused socket stays the caller's");
        Assert.Throws<ArgumentNullException>(() => ProactorSocket.FromSocket(Engine, null!));
        var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => ProactorSocket.FromSocket(Engine, closed));
        Assert.That(Engine.SocketCount, Is.Zero);
    }
}
