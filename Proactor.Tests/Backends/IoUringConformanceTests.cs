using NUnit.Framework;
using Proactor.Tests.Conformance;

namespace Proactor.Tests.Backends;

/// <summary>The conformance suite on the io_uring native proactor, continuations on the thread pool.</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class IoUringConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.IoUring });
}

/// <summary>The conformance suite on io_uring with continuations run on the ring thread.</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class IoUringInlineConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.IoUring, Dispatch = CompletionDispatch.Inline });
}

/// <summary>The conformance suite on io_uring with one SQE per receive (multishot receive off),
/// the path kernels before 6.0 take.</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class IoUringOneShotReceiveConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine()
    {
        ProactorEngine engine = EngineFactory.Create(new EngineOptions { Backend = BackendKind.IoUring });
        ((Proactor.Linux.IoUringEngine)engine).MultishotReceive = false;
        return engine;
    }
}
