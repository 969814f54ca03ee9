using System;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Core;

/// <summary>
/// The awaiting helpers every fixture uses resume the test off the thread that completed the
/// operation. With inline dispatch that thread is the engine's loop: a test resumed there and then
/// blocking (a synchronous assert, a spin-wait for something the loop does after the handler)
/// stalls the engine it waits for, which made tests fail now and then.
/// </summary>
[TestFixture]
public sealed class TestHelperTests
{
    [Test]
    public async Task Timeout_resumes_off_the_loop_thread_that_completed_the_operation_later()
    {
        using ProactorEngine engine = InlineEngine();
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            // The receive is pending when awaited; the byte comes later, so the loop completes it.
            Task sending = SendLaterAsync(client);
            byte[] got = new byte[1];
            int received = await server.ReceiveAsync(got).Timeout();
            bool onLoop = engine.IsEngineThread;
            await sending;

            Assert.That(received, Is.EqualTo(1));
            Assert.That(onLoop, Is.False, "the test resumed on the loop thread");
        }
    }

    [Test]
    public async Task Timeout_and_Expect_resume_off_the_loop_thread_when_the_operation_fails_later()
    {
        using ProactorEngine engine = InlineEngine();
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
            bool onLoop;
            try
            {
                await server.ReceiveAsync(new byte[1], cancel.Token).Timeout();
                onLoop = true;
                Assert.Fail("the receive was not cancelled");
            }
            catch (OperationCanceledException)
            {
                onLoop = engine.IsEngineThread;
            }

            Assert.That(onLoop, Is.False, "Timeout: the test resumed on the loop thread");

            using var again = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
            await Expect.ThrowsAsync<OperationCanceledException>(() => server.ReceiveAsync(new byte[1], again.Token).AsTask());
            Assert.That(engine.IsEngineThread, Is.False, "Expect.ThrowsAsync: the test resumed on the loop thread");
        }
    }

    private static ProactorEngine InlineEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.Managed, Dispatch = CompletionDispatch.Inline });

    private static async Task SendLaterAsync(ProactorSocket client)
    {
        await Task.Delay(50);
        await client.SendAsync(new byte[] { 7 }).Timeout();
    }
}
