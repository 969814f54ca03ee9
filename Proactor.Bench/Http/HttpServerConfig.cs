using System;
using System.Collections.Generic;
using System.Globalization;

namespace Proactor.Bench.Http;

/// <summary>One Kestrel configuration of the <c>http</c> comparison: transport, and for Proactor its
/// engines (a null <paramref name="Dispatch"/> keeps the transport's default, as <c>UseProactor()</c> does).</summary>
internal sealed record HttpServerConfig(string Name, string Transport, BackendKind Backend, CompletionDispatch? Dispatch, int Loops, int Port = 0)
{
    /// <summary>What the comparison runs unless <c>--servers</c> says otherwise.</summary>
    public static IReadOnlyList<HttpServerConfig> Catalog { get; } = new[]
    {
        new HttpServerConfig("sockets", "sockets", BackendKind.Default, CompletionDispatch.ThreadPool, 0),
        new HttpServerConfig("proactor", "proactor", BackendKind.Default, null, 0),
        new HttpServerConfig("proactor-threadpool", "proactor", BackendKind.Default, CompletionDispatch.ThreadPool, 0),
        new HttpServerConfig("proactor-inline", "proactor", BackendKind.Default, CompletionDispatch.Inline, 0),
        new HttpServerConfig("proactor-epoll-inline", "proactor", BackendKind.Epoll, CompletionDispatch.Inline, 0),
    };

    public IEnumerable<string> ServeArguments() => new[]
    {
        "http-serve", "--name", Name, "--transport", Transport, "--backend", Backend.ToString(),
        "--dispatch", Dispatch?.ToString() ?? "default", "--loops", Loops.ToString(CultureInfo.InvariantCulture),
        "--port", Port.ToString(CultureInfo.InvariantCulture),
    };
}
