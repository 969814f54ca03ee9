using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>User code that misbehaves on an engine thread must not end the engine.</summary>
public abstract partial class ConformanceTests
{
    [Test]
    public async Task A_Warning_callback_that_throws_on_the_engine_thread_does_not_end_the_engine()
    {
        int warnings = 0;
        using ProactorEngine engine = CreateVariant(o => o with
        {
            Dispatch = CompletionDispatch.Inline,
            InlineHandlerWarningThreshold = TimeSpan.FromMilliseconds(1),
            Warning = _ =>
            {
                Interlocked.Increment(ref warnings);
                throw new InvalidOperationException("a broken Warning sink");
            },
        });
        var (client, server) = await Net.ConnectedPairAsync(engine);
        using (client)
        using (server)
        {
            // A slow inline continuation makes the engine thread report it through the sink, which throws.
            byte[] buffer = new byte[64];
            var slowHandlerRan = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter awaiter = server.ReceiveAsync(buffer).ConfigureAwait(false).GetAwaiter();
            awaiter.UnsafeOnCompleted(() =>
            {
                int n = awaiter.GetResult();
                Thread.Sleep(20);
                slowHandlerRan.SetResult(n);
            });
            Assert.That(await client.SendAsync(new byte[64]).AsTask().Timeout(), Is.EqualTo(64));
            Assert.That(await slowHandlerRan.Task.Timeout(), Is.EqualTo(64));
            for (int i = 0; i < 100 && Volatile.Read(ref warnings) == 0; i++)
            {
                await Task.Delay(10);
            }

            Assert.That(Volatile.Read(ref warnings), Is.GreaterThan(0), "the sink was called (and threw)");

            // The engine still completes operations: of this socket and of a new connection.
            ValueTask<int> again = server.ReceiveAsync(buffer);
            Assert.That(await client.SendAsync(new byte[10]).AsTask().Timeout(), Is.EqualTo(10));
            Assert.That(await again.AsTask().Timeout(), Is.EqualTo(10));
            var (client2, server2) = await Net.ConnectedPairAsync(engine);
            using (client2)
            using (server2)
            {
                ValueTask<int> receive = server2.ReceiveAsync(buffer);
                Assert.That(await client2.SendAsync(new byte[5]).AsTask().Timeout(), Is.EqualTo(5));
                Assert.That(await receive.AsTask().Timeout(), Is.EqualTo(5));
            }
        }
    }
}
