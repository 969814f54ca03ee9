using NUnit.Framework;
using Proactor.Tests.Conformance;

namespace Proactor.Tests.Backends;

/// <summary>The conformance suite on edge-triggered epoll, the Linux default.</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class EpollConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.Epoll });
}

/// <summary>The conformance suite on level-triggered epoll.</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class EpollLevelTriggeredConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.Epoll, EpollLevelTriggered = true });
}

/// <summary>The conformance suite on edge-triggered epoll with continuations run on the loop thread.</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class EpollInlineConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.Epoll, Dispatch = CompletionDispatch.Inline });
}
