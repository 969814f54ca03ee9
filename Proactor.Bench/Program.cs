using System;
using System.Threading.Tasks;
using Proactor.Bench.Cli;

namespace Proactor.Bench;

/// <summary>
/// Proactor.Bench: <c>compare</c> (the side-by-side comparison), <c>serve</c> (one echo server),
/// <c>idle</c> (memory per idle connection), <c>micro</c> (BenchmarkDotNet), <c>timers</c>.
/// <c>--help</c> after any command lists its options (<see cref="BenchCli"/>).
/// </summary>
internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        if (OperatingSystem.IsWindows())
        {
            // µ and × in the table; Linux terminals are UTF-8 already.
            Console.OutputEncoding = System.Text.Encoding.UTF8;
        }

        return BenchCli.RunAsync(args);
    }
}
