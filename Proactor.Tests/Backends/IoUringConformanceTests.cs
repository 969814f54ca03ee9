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
