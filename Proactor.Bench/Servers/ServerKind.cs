namespace Proactor.Bench.Servers;

/// <summary>The families of echo servers the runner can compare.</summary>
internal enum ServerKind
{
    /// <summary>A Proactor engine (any backend, dispatch policy and epoll mode).</summary>
    Proactor,

    /// <summary>System.Net.Sockets async: the baseline every .NET user knows.</summary>
    Sockets,

    /// <summary>One blocking thread per connection.</summary>
    Blocking,

    /// <summary>The same echo as a Reactor: readiness handlers doing TryReceive/TrySend (docs/reactor.md).</summary>
    Reactor,

    /// <summary>Any echo server binary, started from a user's command line.</summary>
    External,
}
