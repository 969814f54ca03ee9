using System.Collections.Generic;

namespace Proactor.Bench.Http;

/// <summary>One wrk workload of <c>http</c>: the path it requests and whether requests are pipelined.</summary>
internal sealed record HttpWorkload(string Name, string Path, bool Pipelined)
{
    /// <summary>TechEmpower's plaintext (one request at a time and pipelined) and JSON endpoints.</summary>
    public static IReadOnlyList<HttpWorkload> All { get; } =
    [
        new("plaintext", "/plaintext", false),
        new("pipelined", "/plaintext", true),
        new("json", "/json", false),
    ];
}
