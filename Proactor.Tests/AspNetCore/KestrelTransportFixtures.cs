using NUnit.Framework;

namespace Proactor.Tests.AspNetCore;

/// <summary>Kestrel on what <c>UseProactor()</c> picks by itself (io_uring, or epoll where the
/// kernel refuses it; inline dispatch).</summary>
[TestFixture, Platform("Linux"), Category("Linux")]
public sealed class KestrelOnTransportDefaultsTests : KestrelTransportTests
{
    protected override EngineOptions? Options => null;
}

/// <summary>Kestrel on edge-triggered epoll.</summary>
[TestFixture, Platform("Linux"), Category("Linux")]
public sealed class KestrelOnEpollTests : KestrelTransportTests
{
    protected override EngineOptions Options => new() { Backend = BackendKind.Epoll };
}

/// <summary>Kestrel on level-triggered epoll.</summary>
[TestFixture, Platform("Linux"), Category("Linux")]
public sealed class KestrelOnEpollLevelTriggeredTests : KestrelTransportTests
{
    protected override EngineOptions Options => new() { Backend = BackendKind.Epoll, EpollLevelTriggered = true };
}

/// <summary>Kestrel on edge-triggered epoll, the transport's continuations on the loop threads.</summary>
[TestFixture, Platform("Linux"), Category("Linux")]
public sealed class KestrelOnEpollInlineTests : KestrelTransportTests
{
    protected override EngineOptions Options => new() { Backend = BackendKind.Epoll, Dispatch = CompletionDispatch.Inline };
}

/// <summary>Kestrel on poll.</summary>
[TestFixture, Platform("Linux"), Category("Linux")]
public sealed class KestrelOnPollTests : KestrelTransportTests
{
    protected override EngineOptions Options => new() { Backend = BackendKind.Poll };
}

/// <summary>Kestrel on select.</summary>
[TestFixture, Platform("Linux"), Category("Linux")]
public sealed class KestrelOnSelectTests : KestrelTransportTests
{
    protected override EngineOptions Options => new() { Backend = BackendKind.Select };
}

/// <summary>Kestrel on select, continuations on the loop threads.</summary>
[TestFixture, Platform("Linux"), Category("Linux")]
public sealed class KestrelOnSelectInlineTests : KestrelTransportTests
{
    protected override EngineOptions Options => new() { Backend = BackendKind.Select, Dispatch = CompletionDispatch.Inline };
}

/// <summary>Kestrel on io_uring.</summary>
[TestFixture, Platform("Linux"), Category("Linux")]
public sealed class KestrelOnIoUringTests : KestrelTransportTests
{
    protected override EngineOptions Options => new() { Backend = BackendKind.IoUring };
}

/// <summary>Kestrel on io_uring, continuations on the ring threads.</summary>
[TestFixture, Platform("Linux"), Category("Linux")]
public sealed class KestrelOnIoUringInlineTests : KestrelTransportTests
{
    protected override EngineOptions Options => new() { Backend = BackendKind.IoUring, Dispatch = CompletionDispatch.Inline };
}

/// <summary>Kestrel on IOCP (Windows; under Wine on Linux CI).</summary>
[TestFixture, Platform("Win"), Category("Windows")]
public sealed class KestrelOnIocpTests : KestrelTransportTests
{
    protected override EngineOptions Options => new() { Backend = BackendKind.Iocp };
}

/// <summary>Kestrel on IOCP, continuations on the completion threads.</summary>
[TestFixture, Platform("Win"), Category("Windows")]
public sealed class KestrelOnIocpInlineTests : KestrelTransportTests
{
    protected override EngineOptions Options => new() { Backend = BackendKind.Iocp, Dispatch = CompletionDispatch.Inline };
}
