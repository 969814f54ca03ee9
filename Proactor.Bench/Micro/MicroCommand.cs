using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Proactor.Bench.Micro;

/// <summary>
/// <c>micro [filter] [BenchmarkDotNet options]</c>: the BenchmarkDotNet micro-benchmarks with
/// [MemoryDiagnoser]. They run in this process (in-process emit toolchain): BenchmarkDotNet's
/// default toolchain would rebuild the solution into its shared bin/obj folders.
/// </summary>
internal static class MicroCommand
{
    public static int Run(string[] args)
    {
        var types = new List<Type> { typeof(SocketBenchmarks), typeof(CompletionQueueBenchmarks), typeof(DatagramBenchmarks), typeof(ConnectionBenchmarks) };
        if (OperatingSystem.IsLinux())
        {
            types.Add(typeof(DemultiplexerDispatchBenchmarks));
        }

        var bdnArgs = new List<string>();
        IEnumerable<string> rest = args;
        if (args.Length > 0 && !args[0].StartsWith('-'))
        {
            string filter = args[0];
            bdnArgs.AddRange(["--filter", filter.Contains('*', StringComparison.Ordinal) || filter.Contains('?', StringComparison.Ordinal) ? filter : $"*{filter}*"]);
            rest = args.Skip(1);
        }
        else if (!args.Contains("--filter"))
        {
            bdnArgs.AddRange(["--filter", "*"]);
        }

        bdnArgs.AddRange(rest);
        IConfig config = DefaultConfig.Instance.AddDiagnoser(MemoryDiagnoser.Default);
        if (bdnArgs.Contains("--job") || bdnArgs.Contains("-j"))
        {
            if (!bdnArgs.Contains("--inProcess"))
            {
                bdnArgs.Add("--inProcess");
            }
        }
        else
        {
            config = config.AddJob(Job.Default
                .WithWarmupCount(3)
                .WithIterationCount(10)
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithId("proactor"));
        }

        IEnumerable<Summary> summaries = BenchmarkSwitcher.FromTypes(types.ToArray()).Run(bdnArgs.ToArray(), config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
