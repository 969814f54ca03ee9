using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>Signal events delivered by the engine's loop.</summary>
public abstract partial class ConformanceTests
{
    private static void RequireKill()
    {
        if (!OperatingSystem.IsLinux())
        {
            // Wine offers no way to raise a console control event at our own process from a test
            // without ending the test run; the API is the runtime's PosixSignalRegistration there.
            Assert.Ignore("Signals are raised with kill(2): Linux only.");
        }
    }

    /// <summary>Sends <paramref name="signal"/> to this process and waits until the runtime's signal
    /// thread has seen it (through a registration of the test's own, which must still run).</summary>
    private static async Task RaiseAsync(PosixSignal signal, int number)
    {
        using var seen = new SemaphoreSlim(0);
        using PosixSignalRegistration own = PosixSignalRegistration.Create(signal, c =>
        {
            c.Cancel = true;
            seen.Release();
        });
        Assert.That(SignalInterop.Kill(Environment.ProcessId, number), Is.Zero, "kill failed");
        Assert.That(await seen.WaitAsync(Net.StepTimeout), Is.True, "another registration of the signal did not run");
    }

    private static partial class SignalInterop
    {
        public const int SIGCONT = 18;
        public const int SIGWINCH = 28;

        /// <summary>SIGWINCH by its raw Linux number (PosixSignal.SIGWINCH is flagged as unsupported on Windows).</summary>
        public static readonly PosixSignal Winch = (PosixSignal)SIGWINCH;

        [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static partial int Kill(int pid, int signal);
    }

    [Test]
    public async Task A_signal_is_delivered_once_by_the_loop_and_other_registrations_still_see_it()
    {
        RequireKill();
        Task<PosixSignal> wait = Engine.WaitForSignalAsync(SignalInterop.Winch);
        int onEngine = -1;
        Task<PosixSignal> observed = wait.ContinueWith(t =>
        {
            onEngine = Engine.Dispatch == CompletionDispatch.Inline && Engine.IsEngineThread ? 1 : 0;
            return t.Result;
        }, TaskContinuationOptions.ExecuteSynchronously);
        Assert.That(wait.IsCompleted, Is.False);
        await RaiseAsync(SignalInterop.Winch, SignalInterop.SIGWINCH);
        Assert.That(await observed.Timeout(), Is.EqualTo(SignalInterop.Winch));
        if (Engine.Dispatch == CompletionDispatch.Inline)
        {
            Assert.That(onEngine, Is.EqualTo(1), "an inline engine's continuation ran off its loop");
        }

        // One wait, one delivery: a second signal does not disturb the finished task or the engine.
        await RaiseAsync(SignalInterop.Winch, SignalInterop.SIGWINCH);
        Assert.That(wait.Result, Is.EqualTo(SignalInterop.Winch));
        Assert.That(await Engine.Delay(TimeSpan.FromMilliseconds(1)).ContinueWith(_ => true).Timeout(), Is.True);
    }

    [Test]
    public async Task A_registered_signal_handler_runs_on_the_loop_once_per_signal_and_never_after_dispose()
    {
        RequireKill();
        int calls = 0;
        int offLoop = 0;
        IDisposable registration = Engine.RegisterSignalHandler((PosixSignal)SignalInterop.SIGCONT, s =>
        {
            if (!Engine.IsEngineThread)
            {
                Interlocked.Increment(ref offLoop);
            }

            Interlocked.Increment(ref calls);
        });
        for (int i = 1; i <= 3; i++)
        {
            await RaiseAsync((PosixSignal)SignalInterop.SIGCONT, SignalInterop.SIGCONT);
            await UntilAsync(() => Volatile.Read(ref calls) >= i, $"signal {i} delivered");
            await LetTheLoopTurnAsync();
            Assert.That(Volatile.Read(ref calls), Is.EqualTo(i), "a signal was delivered twice");
        }

        registration.Dispose();
        await RaiseAsync((PosixSignal)SignalInterop.SIGCONT, SignalInterop.SIGCONT);
        await LetTheLoopTurnAsync();
        Assert.That((calls, offLoop), Is.EqualTo((3, 0)));
    }

    [Test]
    public async Task A_cancelled_or_disposed_signal_wait_ends_as_such()
    {
        RequireKill();
        using var cts = new CancellationTokenSource();
        Task<PosixSignal> cancelled = Engine.WaitForSignalAsync(SignalInterop.Winch, cts.Token);
        cts.Cancel();
        await Expect.ThrowsAsync<OperationCanceledException>(() => cancelled);

        Task<PosixSignal> pending = Engine.WaitForSignalAsync(SignalInterop.Winch);
        Engine.Dispose();
        await Expect.ThrowsAsync<ObjectDisposedException>(() => pending);
        Assert.That(() => Engine.WaitForSignalAsync(SignalInterop.Winch), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(() => Engine.RegisterSignalHandler(SignalInterop.Winch, null!), Throws.TypeOf<ArgumentNullException>());
    }
}
