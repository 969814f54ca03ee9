using System;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Cli;
using Proactor.Bench.Compare;
using Proactor.Bench.Load;
using Proactor.Bench.Micro;
using Proactor.Bench.Servers;
using Spectre.Console;

namespace Proactor.Bench;

/// <summary>
/// Proactor.Bench: <c>compare</c> (the side-by-side comparison), <c>serve</c> (one echo server),
/// <c>micro</c> (BenchmarkDotNet). Every failure the user can act on ends as one line on stderr and
/// a non-zero exit code, never a stack trace.
/// </summary>
internal static class Program
{
    public const int ExitUsage = 2;
    public const int ExitFailure = 1;

    public const string Usage = """
        Proactor.Bench: compare completion-style and readiness-style echo servers on loopback.

          compare [--quick|--full] [options]    every available backend, System.Net.Sockets and a
                                                thread-per-connection server under one load generator
              --servers a,b          only these servers (names as listed at the start of a run; 'default')
              --workloads x,y        only these workloads (pingpong-1, pingpong-64, stream, churn, idle-1000, ...)
              --duration T           measured time per server and workload (2, 1.5s, 500ms)
              --warmup T             warm-up before each measurement
              --connections N        one custom ping-pong workload: N connections,
              --size B                 B bytes per message (64, 4k),
              --in-flight N            N messages in flight per connection
              --idle 0,1000,10000    idle connection counts of the idle-scaling workloads
              --external NAME=CMD    also run an external echo server; CMD gets the port at {port}
              --out DIR              results folder root (default: results)
              --no-pin               do not pin server and load generator to different CPUs
          serve [--backend B] [--port P] [--dispatch threadpool|inline] [--level-triggered]
                [--address A] [--server proactor|sockets|blocking]
                                                run one echo server until Ctrl+C / SIGTERM
          micro [filter] [BenchmarkDotNet options]
                                                per-operation micro-benchmarks ([MemoryDiagnoser])
          timers [--count N] [--spread T] [--rounds R] [--backends a,b]
                                                how late the engines' deadlines fire (percentiles)
          unix-pingpong [--connections N] [--size B] [--duration T] [--rounds R] [--backends a,b]
                                                Unix domain socket ping-pong, each backend beside System.Net.Sockets
        """;

    public static async Task<int> Main(string[] args)
    {
        if (OperatingSystem.IsWindows())
        {
            // µ and × in the table; Linux terminals are UTF-8 already.
            Console.OutputEncoding = System.Text.Encoding.UTF8;
        }

        try
        {
            if (args.Length == 0 || args[0] is "help" or "--help" or "-h" or "-?")
            {
                Console.Out.WriteLine(Usage);
                return args.Length == 0 ? ExitUsage : 0;
            }

            string[] rest = args[1..];
            switch (args[0])
            {
                case "compare":
                    CompareOptions options = CompareOptions.Parse(rest);
                    if (Console.IsOutputRedirected)
                    {
                        // Not a terminal (CI, a pipe): Spectre would assume 80 columns and fold the table.
                        AnsiConsole.Profile.Width = 180;
                    }

                    using (var cancel = new CancellationTokenSource())
                    {
                        Console.CancelKeyPress += (_, e) =>
                        {
                            e.Cancel = true;
                            cancel.Cancel();
                        };
                        await CompareCommand.RunAsync(options, AnsiConsole.Console, "compare " + string.Join(" ", rest), cancel.Token);
                    }

                    return 0;
                case "serve":
                    return await ServeCommand.RunAsync(ServeOptions.Parse(rest));
                case "loadgen":
                    return await LoadGenCommand.RunAsync();
                case "micro":
                    return MicroCommand.Run(rest);
                case "timers":
                    return await Timers.TimersCommand.RunAsync(rest);
                case "unix-pingpong":
                    return await UnixSockets.UnixPingPongCommand.RunAsync(rest);
                default:
                    throw new UsageException($"unknown command '{args[0]}'; commands: compare, serve, micro, timers (see 'help').");
            }
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitUsage;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("error: stopped.");
            return ExitFailure;
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException or System.IO.IOException or UnauthorizedAccessException or NotSupportedException or PlatformNotSupportedException)
        {
            Console.Error.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
            return ExitFailure;
        }
        catch (Exception e)
        {
            // Unexpected: still one line by default; PROACTOR_BENCH_TRACE=1 shows where.
            Console.Error.WriteLine(Environment.GetEnvironmentVariable("PROACTOR_BENCH_TRACE") == "1"
                ? e.ToString()
                : $"error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")} (set PROACTOR_BENCH_TRACE=1 for the stack trace)");
            return ExitFailure;
        }
    }
}
