using System;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    [Test]
    public async Task The_completion_queue_carries_accept_connect_send_and_receive_with_their_tokens()
    {
        CompletionQueue queue = Engine.CreateCompletionQueue(singleReader: true);
        using ProactorSocket listener = Net.Listen(Engine);
        using var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);

        queue.SubmitAccept(listener, userToken: "accept");
        queue.SubmitConnect(client, listener.LocalEndPoint!, userToken: "connect");

        ProactorSocket? server = null;
        bool connected = false;
        for (int i = 0; i < 2; i++)
        {
            Completion c = await queue.Reader.ReadAsync().Timeout();
            Assert.That(c.Error, Is.EqualTo(SocketError.Success), c.ToString());
            switch (c.UserToken)
            {
                case "accept":
                    Assert.That(c.Kind, Is.EqualTo(OperationKind.Accept));
                    Assert.That(c.Socket, Is.SameAs(listener));
                    server = c.AcceptedSocket;
                    break;
                case "connect":
                    Assert.That(c.Kind, Is.EqualTo(OperationKind.Connect));
                    Assert.That(c.Socket, Is.SameAs(client));
                    connected = true;
                    break;
                default:
                    Assert.Fail($"unexpected completion {c}");
                    break;
            }
        }

        Assert.That(server, Is.Not.Null);
        Assert.That(connected, Is.True);
        using (server)
        {
            byte[] receiveBuffer = new byte[5];
            queue.SubmitReceive(server!, receiveBuffer, userToken: 7);
            queue.SubmitSend(client, new byte[] { 10, 20, 30, 40, 50 }, userToken: 8);

            int receivedBytes = 0;
            for (int i = 0; i < 2; i++)
            {
                Completion c = await queue.Reader.ReadAsync().Timeout();
                Assert.That(c.IsSuccess, Is.True, c.ToString());
                if (c.Kind == OperationKind.Send)
                {
                    Assert.That(c.UserToken, Is.EqualTo(8));
                    Assert.That(c.BytesTransferred, Is.EqualTo(5));
                }
                else
                {
                    Assert.That(c.Kind, Is.EqualTo(OperationKind.Receive));
                    Assert.That(c.UserToken, Is.EqualTo(7));
                    Assert.That(c.Buffer.Length, Is.EqualTo(5));
                    receivedBytes = c.BytesTransferred;
                }
            }

            Assert.That(receivedBytes, Is.GreaterThan(0));
            Assert.That(receiveBuffer[..receivedBytes], Is.EqualTo(new byte[] { 10, 20, 30, 40, 50 }[..receivedBytes]));
        }
    }

    [Test]
    public async Task The_completion_queue_reports_a_cancelled_receive_once_and_the_socket_stays_usable()
    {
        var (client, server) = await Net.ConnectedPairAsync(Engine);
        using (client)
        using (server)
        {
            CompletionQueue queue = Engine.CreateCompletionQueue();
            using var cts = new System.Threading.CancellationTokenSource();
            queue.SubmitReceive(server, new byte[4], userToken: "first", cts.Token);
            await Task.Delay(20);
            await cts.CancelAsync();

            Completion cancelled = await queue.Reader.ReadAsync().Timeout();
            Assert.Multiple(() =>
            {
                Assert.That(cancelled.UserToken, Is.EqualTo("first"));
                Assert.That(cancelled.IsCanceled, Is.True);
                Assert.That(cancelled.Error, Is.EqualTo(SocketError.OperationAborted));
            });

            queue.SubmitReceive(server, new byte[4], userToken: "second");
            await client.SendAsync(new byte[] { 5 }).Timeout();
            Completion second = await queue.Reader.ReadAsync().Timeout();
            Assert.Multiple(() =>
            {
                Assert.That(second.UserToken, Is.EqualTo("second"));
                Assert.That(second.BytesTransferred, Is.EqualTo(1));
                Assert.That(second.Buffer.Span[0], Is.EqualTo(5));
            });
        }
    }

    [Test]
    public async Task The_completion_queue_reports_a_refused_connect_as_a_value()
    {
        CompletionQueue queue = Engine.CreateCompletionQueue();
        using var client = new ProactorSocket(Engine, AddressFamily.InterNetwork);
        queue.SubmitConnect(client, Net.ClosedPort(), userToken: 1);
        Completion c = await queue.Reader.ReadAsync().Timeout();
        Assert.That(c.Error, Is.EqualTo(SocketError.ConnectionRefused));
        Assert.That(c.UserToken, Is.EqualTo(1));
    }
}
