using NUnit.Framework;
using Proactor.Tests.Conformance;

namespace Proactor.Tests.Backends;

/// <summary>The conformance suite on the managed backend (System.Net.Sockets underneath),
/// continuations on the thread pool. Platform-neutral; run on Linux here.</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class ManagedConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.Managed });
}

/// <summary>The conformance suite on the managed backend with continuations run on its loop thread.</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class ManagedInlineConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.Managed, Dispatch = CompletionDispatch.Inline });
}
