using NUnit.Framework;
using Proactor.Tests.Conformance;

namespace Proactor.Tests.Backends;

/// <summary>The conformance suite on poll(2).</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class PollConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.Poll });
}

/// <summary>The conformance suite on poll(2) with continuations run on the loop thread.</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class PollInlineConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.Poll, Dispatch = CompletionDispatch.Inline });
}

/// <summary>The conformance suite on select(2).</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class SelectConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.Select });
}

/// <summary>The conformance suite on select(2) with continuations run on the loop thread.</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class SelectInlineConformanceTests : ConformanceTests
{
    protected override ProactorEngine CreateEngine() =>
        EngineFactory.Create(new EngineOptions { Backend = BackendKind.Select, Dispatch = CompletionDispatch.Inline });
}
