using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Proactor.Bench.Http;

/// <summary>One Kestrel configuration of the <c>http</c> comparison: transport, and for Proactor its
/// engines (a null <paramref name="Dispatch"/> keeps the transport's default, as <c>UseProactor()</c> does)
/// and where request handling resumes (<paramref name="Application"/>: "default" as <c>UseProactor()</c>,
/// "threadpool" one pool work item per request, "inline" on the loop thread).</summary>
internal sealed record HttpServerConfig(string Name, string Transport, BackendKind Backend, CompletionDispatch? Dispatch, int Loops, int Port = 0, string Application = "default")
{
    /// <summary>What the comparison runs unless <c>--servers</c> says otherwise.</summary>
    public static IReadOnlyList<HttpServerConfig> Catalog { get; } = new[]
    {
        new HttpServerConfig("sockets", "sockets", BackendKind.Default, CompletionDispatch.ThreadPool, 0),
        new HttpServerConfig("proactor", "proactor", BackendKind.Default, null, 0),
        new HttpServerConfig("proactor-threadpool", "proactor", BackendKind.Default, CompletionDispatch.ThreadPool, 0),
        new HttpServerConfig("proactor-inline", "proactor", BackendKind.Default, CompletionDispatch.Inline, 0),
        new HttpServerConfig("proactor-epoll-inline", "proactor", BackendKind.Epoll, CompletionDispatch.Inline, 0),

        // Not in the default run: A/B of where requests resume. "per-request" is UseProactor()'s
        // scheduling before requests were handed to the pool in one work item per loop iteration;
        // "unsafe-inline" runs them on the loop thread (as Kestrel's UnsafePreferInlineScheduling).
        new HttpServerConfig("proactor-per-request", "proactor", BackendKind.Default, null, 0, Application: "threadpool"),
        new HttpServerConfig("proactor-unsafe-inline", "proactor", BackendKind.Default, null, 0, Application: "inline"),
    };

    /// <summary>The servers <c>http</c> runs without <c>--servers</c>.</summary>
    public static IEnumerable<HttpServerConfig> DefaultRun => Catalog.Where(c => c.Application == "default");

    public IEnumerable<string> ServeArguments() => new[]
    {
        "http-serve", "--name", Name, "--transport", Transport, "--backend", Backend.ToString(),
        "--dispatch", Dispatch?.ToString() ?? "default", "--loops", Loops.ToString(CultureInfo.InvariantCulture),
        "--port", Port.ToString(CultureInfo.InvariantCulture), "--application", Application,
    };
}
