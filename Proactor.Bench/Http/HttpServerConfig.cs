using System;
using System.Collections.Generic;
using System.Globalization;
using Proactor.Bench.Cli;

namespace Proactor.Bench.Http;

/// <summary>One Kestrel configuration of the <c>http</c> comparison: transport, and for Proactor its engines.</summary>
internal sealed record HttpServerConfig(string Name, string Transport, BackendKind Backend, CompletionDispatch Dispatch, int Loops, int Port = 0)
{
    /// <summary>What the comparison runs unless <c>--servers</c> says otherwise.</summary>
    public static IReadOnlyList<HttpServerConfig> Catalog { get; } = new[]
    {
        new HttpServerConfig("sockets", "sockets", BackendKind.Default, CompletionDispatch.ThreadPool, 0),
        new HttpServerConfig("proactor", "proactor", BackendKind.Default, CompletionDispatch.ThreadPool, 0),
        new HttpServerConfig("proactor-inline", "proactor", BackendKind.Default, CompletionDispatch.Inline, 0),
        new HttpServerConfig("proactor-epoll-inline", "proactor", BackendKind.Epoll, CompletionDispatch.Inline, 0),
    };

    public IEnumerable<string> ServeArguments() => new[]
    {
        "http-serve", "--name", Name, "--transport", Transport, "--backend", Backend.ToString(),
        "--dispatch", Dispatch.ToString(), "--loops", Loops.ToString(CultureInfo.InvariantCulture),
        "--port", Port.ToString(CultureInfo.InvariantCulture),
    };

    public static HttpServerConfig Parse(string[] args)
    {
        var config = new HttpServerConfig("proactor", "proactor", BackendKind.Default, CompletionDispatch.ThreadPool, 0);
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{args[i]} needs a value");
            config = args[i] switch
            {
                "--name" => config with { Name = Value() },
                "--transport" => config with { Transport = Transport(Value()) },
                "--backend" => config with { Backend = Enum.TryParse(Value(), true, out BackendKind b) ? b : throw new UsageException($"unknown backend '{args[i]}'") },
                "--dispatch" => config with { Dispatch = Enum.TryParse(Value(), true, out CompletionDispatch d) ? d : throw new UsageException($"unknown dispatch '{args[i]}'") },
                "--loops" => config with { Loops = int.TryParse(Value(), CultureInfo.InvariantCulture, out int n) && n >= 0 ? n : throw new UsageException("--loops is a count (0: one per core)") },
                "--port" => config with { Port = int.TryParse(Value(), CultureInfo.InvariantCulture, out int p) && p is >= 0 and <= 65535 ? p : throw new UsageException("--port is 0-65535") },
                _ => throw new UsageException($"unknown option '{args[i]}' for http-serve"),
            };
        }

        return config;

        static string Transport(string value) =>
            value is "sockets" or "proactor" ? value : throw new UsageException($"--transport is sockets or proactor, not '{value}'");
    }
}
