using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using NUnit.Framework;
using Proactor.Tests.Conformance;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Backends;

/// <summary>The conformance suite on the IOCP native proactor (Windows; under Wine on Linux CI).</summary>
[TestFixture]
[Platform("Win")]
[Category("Windows")]
public sealed class IocpConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.Iocp });

    protected override int RuntimeBytesPerPendingAwait => IocpEnvironment.RuntimeBytesPerPendingAwait;
}

/// <summary>The conformance suite on IOCP with continuations run on the completion thread.</summary>
[TestFixture]
[Platform("Win")]
[Category("Windows")]
public sealed class IocpInlineConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.Iocp, Dispatch = CompletionDispatch.Inline });

    protected override int RuntimeBytesPerPendingAwait => IocpEnvironment.RuntimeBytesPerPendingAwait;
}

/// <summary>
/// The conformance suite on IOCP with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS refused (forced by a test
/// hook), as layered providers make real Windows do: every operation, also one that succeeds at
/// once, completes through the port — a path the machine running the tests would otherwise never take.
/// </summary>
[TestFixture]
[Platform("Win")]
[Category("Windows")]
[System.Runtime.Versioning.SupportedOSPlatform("windows")]
public sealed class IocpNoSkipConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        new Proactor.Windows.IocpEngine(new EngineOptions { Backend = BackendKind.Iocp },
            new Proactor.Windows.IocpTestHooks { ForceNoSkipCompletionPortOnSuccess = true });

    protected override int RuntimeBytesPerPendingAwait => IocpEnvironment.RuntimeBytesPerPendingAwait;
}

/// <summary>The one place where the IOCP fixtures say how their environment differs.</summary>
internal static class IocpEnvironment
{
    /// <summary>True when this Windows program runs under Wine (ntdll exports wine_get_version).</summary>
    public static bool IsWine { get; } = OperatingSystem.IsWindows() &&
        NativeLibrary.TryLoad("ntdll.dll", out nint ntdll) && NativeLibrary.TryGetExport(ntdll, "wine_get_version", out _);

    /// <summary>
    /// Under Wine, the win-x64 runtime boxes the ValueTaskAwaiter&lt;int&gt; (32 B) of every await
    /// whose operation is still pending. Measured in the same process with System.Net.Sockets'
    /// own Socket.ReceiveAsync/SendAsync (ValueTask-based): 69 B per round trip there, 64-70 B with
    /// this backend — the same two boxes per round trip (GC allocation-tick sampling names the
    /// type), with tiered compilation on or off and ReadyToRun on or off. It is the runtime's, not
    /// the backend's; on Windows proper nothing is subtracted, so the test stays as strict as on Linux.
    /// </summary>
    public static int RuntimeBytesPerPendingAwait => IsWine ? 32 : 0;
}

/// <summary>What only the IOCP backend has: its completion mode, and the Windows leak check's reach.</summary>
[TestFixture]
[Platform("Win")]
[Category("Windows")]
[NonParallelizable]
[System.Runtime.Versioning.SupportedOSPlatform("windows")]
public sealed class IocpBackendTests
{
    [Test]
    public void The_engine_records_whether_immediate_success_completes_synchronously()
    {
        using ProactorEngine engine = EngineFactory.Create(new EngineOptions { Backend = BackendKind.Iocp });
        var iocp = (Proactor.Windows.IocpEngine)engine;
        TestContext.Out.WriteLine($"{engine.Name}: skip-on-success {(iocp.SkipsCompletionPortOnSuccess ? "accepted" : "refused: " + iocp.SkipCompletionPortOnSuccessRefusal)}");
        Assert.Multiple(() =>
        {
            Assert.That(engine.Backend, Is.EqualTo(BackendKind.Iocp));
            Assert.That(iocp.SkipsCompletionPortOnSuccess, Is.EqualTo(iocp.SkipCompletionPortOnSuccessRefusal is null));
            Assert.That(engine.Name, Is.EqualTo(iocp.SkipsCompletionPortOnSuccess ? "iocp" : "iocp-noskip"));
        });
    }

    [Test]
    public void The_leak_check_sees_sockets_and_completion_ports()
    {
        IReadOnlyDictionary<string, string> before = DescriptorCount.Snapshot();
        IReadOnlyDictionary<string, string> during;
        using (ProactorEngine engine = EngineFactory.Create(new EngineOptions { Backend = BackendKind.Iocp }))
        using (var socket = new ProactorSocket(engine, System.Net.Sockets.AddressFamily.InterNetwork))
        {
            during = DescriptorCount.Snapshot();
        }

        IReadOnlyDictionary<string, string> after = DescriptorCount.Snapshot();
        string added = DescriptorCount.Describe(before, during);
        TestContext.Out.WriteLine($"before {before.Count}, with an engine and a socket {during.Count} ({added}), after {after.Count}");
        Assert.Multiple(() =>
        {
            Assert.That(added, Does.Contain("completion port"), "the engine's port must be visible to the leak check");
            Assert.That(added, Does.Contain("socket"), "an open socket must be visible to the leak check");
            Assert.That(after.Count, Is.EqualTo(before.Count), DescriptorCount.Describe(before, after));
        });
    }
}
