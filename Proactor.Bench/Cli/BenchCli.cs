using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Compare;
using Proactor.Bench.Http;
using Proactor.Bench.Idle;
using Proactor.Bench.Load;
using Proactor.Bench.Micro;
using Proactor.Bench.Servers;
using Proactor.Bench.Timers;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Proactor.Bench.Cli;

/// <summary>
/// The command line, on Spectre.Console.Cli: every command gets <c>--help</c>, typed options and
/// its settings' <c>Validate</c>. A command-line mistake ends as one line, <c>error: ...</c>, and
/// exit code 2; an environment that cannot run what was asked as one line and exit code 1.
/// </summary>
internal static class BenchCli
{
    public const int ExitUsage = 2;
    public const int ExitFailure = 1;

    /// <summary>The program's commands. <paramref name="console"/> receives help and tables.</summary>
    public static CommandApp Create(IAnsiConsole? console = null)
    {
        if (console is null && Console.IsOutputRedirected)
        {
            // Not a terminal (CI, a pipe): Spectre would assume 80 columns and fold help and tables.
            AnsiConsole.Profile.Width = 160;
        }

        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("Proactor.Bench");
            config.UseStrictParsing();
            if (console is not null)
            {
                config.ConfigureConsole(console);
            }

            config.SetExceptionHandler((e, _) => Report(e));
            config.AddCommand<CompareCli>("compare")
                .WithDescription("Every available backend, System.Net.Sockets and a thread-per-connection server under one load generator, in interleaved rounds")
                .WithExample("compare", "--quick")
                .WithExample("compare", "--servers", "sockets,epoll-et/inline,epoll_c", "--external", "epoll_c=eng/peers/bin/epoll_echo {port}", "--workloads", "pingpong-64");
            config.AddCommand<ServeCli>("serve")
                .WithDescription("Run one echo server until Ctrl+C / SIGTERM")
                .WithExample("serve", "--backend", "io_uring", "--dispatch", "inline", "--port", "5000");
            config.AddCommand<IdleCli>("idle")
                .WithDescription("Server memory per idle connection: RSS growth after N connections, each echoed once")
                .WithExample("idle", "--connections", "15000");
            config.AddCommand<MicroCli>("micro")
                .WithDescription("Per-operation BenchmarkDotNet micro-benchmarks ([[MemoryDiagnoser]]); BenchmarkDotNet's options follow the filter")
                .WithExample("micro", "Socket", "--job", "short");
            config.AddCommand<TimersCli>("timers")
                .WithDescription("How late the engines' deadlines fire (percentiles, interleaved rounds)");
            config.AddCommand<HttpCli>("http")
                .WithDescription("Kestrel on its Sockets transport vs Kestrel on Proactor under wrk (plaintext, pipelined, JSON), in interleaved rounds")
                .WithExample("http", "--rounds", "3", "--duration", "10s")
                .WithExample("http", "--servers", "sockets,proactor", "--workloads", "plaintext");
            config.AddCommand<HttpServeCli>("http-serve")
                .WithDescription("One Kestrel server with the plaintext and JSON endpoints (the process http starts; stops when stdin closes)")
                .IsHidden();
            config.AddCommand<LoadGenCli>("loadgen")
                .WithDescription("The load generator's own process (reads requests from stdin)")
                .IsHidden();
        });
        return app;
    }

    /// <summary>
    /// Runs the program. BenchmarkDotNet's options pass through <c>micro</c> unparsed: a <c>--</c>
    /// is put after its filter unless the user asked for help or wrote one.
    /// </summary>
    public static Task<int> RunAsync(string[] args, IAnsiConsole? console = null)
    {
        if (args.Length > 1 && args[0] == "micro" && Array.IndexOf(args, "--") < 0 &&
            Array.IndexOf(args, "--help") < 0 && Array.IndexOf(args, "-h") < 0)
        {
            int at = args[1].StartsWith('-') ? 1 : 2;
            args = [.. args[..at], "--", .. args[at..]];
        }

        if (MissingValue(args) is { } missing)
        {
            return Task.FromResult(Report(new UsageException(missing)));
        }

        return Create(console).RunAsync(args);
    }

    /// <summary>The settings type of each command, for <see cref="MissingValue"/>.</summary>
    private static readonly Dictionary<string, Type> s_settings = new()
    {
        ["compare"] = typeof(CompareSettings),
        ["serve"] = typeof(ServeSettings),
        ["idle"] = typeof(IdleSettings),
        ["timers"] = typeof(TimersSettings),
        ["loadgen"] = typeof(LoadGenSettings),
        ["http"] = typeof(HttpSettings),
        ["http-serve"] = typeof(HttpServeSettings),
    };

    /// <summary>
    /// An option that takes a value but is last, or followed by another option: Spectre.Console.Cli
    /// 0.57 binds an internal token ("__default_command") to it instead of refusing, so the
    /// runner says what is missing before Spectre sees the line.
    /// </summary>
    public static string? MissingValue(string[] args)
    {
        if (args.Length == 0 || !s_settings.TryGetValue(args[0], out Type? settings))
        {
            return null;
        }

        var valued = new HashSet<string>(StringComparer.Ordinal);
        foreach (System.Reflection.PropertyInfo property in settings.GetProperties())
        {
            if (property.PropertyType != typeof(bool) &&
                property.GetCustomAttributes(typeof(CommandOptionAttribute), false) is [CommandOptionAttribute option])
            {
                foreach (string name in option.LongNames)
                {
                    valued.Add("--" + name);
                }

                foreach (string name in option.ShortNames)
                {
                    valued.Add("-" + name);
                }
            }
        }

        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--")
            {
                break;
            }

            if (valued.Contains(args[i]) && (i == args.Length - 1 || (args[i + 1].StartsWith('-') && !double.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out _))))
            {
                return $"{args[0]}: option '{args[i]}' needs a value.";
            }
        }

        return null;
    }

    /// <summary>
    /// Parses one command's arguments with the same rules as the program and returns the bound,
    /// validated settings, or throws <see cref="UsageException"/> with the message the program prints.
    /// </summary>
    public static TSettings Parse<TSettings>(string command, string[] args)
        where TSettings : CommandSettings
    {
        if (MissingValue([command, .. args]) is { } missing)
        {
            throw new UsageException(missing);
        }

        var box = new StrongBox<TSettings>();
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.UseStrictParsing();
            config.PropagateExceptions();
            config.ConfigureConsole(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }));
            config.AddCommand<Capture<TSettings>>(command).WithData(box);
        });
        try
        {
            app.Run([command, .. args]);
        }
        catch (CommandAppException e)
        {
            throw new UsageException(OneLine(e.Message), e);
        }

        return box.Value ?? throw new UsageException($"{command}: help was asked for, nothing to run.");
    }

    /// <summary>Turns what ended the program into one line on stderr and an exit code.</summary>
    private static int Report(Exception e)
    {
        switch (e)
        {
            case CommandAppException or UsageException:
                Console.Error.WriteLine($"error: {OneLine(e.Message)}");
                return ExitUsage;
            case OperationCanceledException:
                Console.Error.WriteLine("error: stopped.");
                return ExitFailure;
            case SocketException or InvalidOperationException or IOException or UnauthorizedAccessException or NotSupportedException or PlatformNotSupportedException:
                Console.Error.WriteLine($"error: {OneLine(e.Message)}");
                return ExitFailure;
            default:
                // Unexpected: still one line by default; PROACTOR_BENCH_TRACE=1 shows where.
                Console.Error.WriteLine(Environment.GetEnvironmentVariable("PROACTOR_BENCH_TRACE") == "1"
                    ? e.ToString()
                    : $"error: {e.GetType().Name}: {OneLine(e.Message)} (set PROACTOR_BENCH_TRACE=1 for the stack trace)");
                return ExitFailure;
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    private sealed class StrongBox<T>
    {
        public T? Value { get; set; }
    }

    /// <summary>The command <see cref="Parse{TSettings}"/> runs: it keeps the settings Spectre bound and validated.</summary>
    private sealed class Capture<TSettings> : Command<TSettings>
        where TSettings : CommandSettings
    {
        public override int Execute(CommandContext context, TSettings settings, CancellationToken cancellationToken)
        {
            ((StrongBox<TSettings>)context.Data!).Value = settings;
            return 0;
        }
    }

    private sealed class CompareCli : AsyncCommand<CompareSettings>
    {
        public override async Task<int> ExecuteAsync(CommandContext context, CompareSettings settings, CancellationToken cancellationToken)
        {
            CompareOptions options = settings.ToOptions();

            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            await CompareCommand.RunAsync(options, AnsiConsole.Console, string.Join(" ", context.Arguments), cancel.Token);
            return 0;
        }
    }

    private sealed class ServeCli : AsyncCommand<ServeSettings>
    {
        public override Task<int> ExecuteAsync(CommandContext context, ServeSettings settings, CancellationToken cancellationToken) =>
            ServeCommand.RunAsync(settings.ToOptions());
    }

    private sealed class IdleCli : AsyncCommand<IdleSettings>
    {
        public override Task<int> ExecuteAsync(CommandContext context, IdleSettings settings, CancellationToken cancellationToken) =>
            IdleCommand.RunAsync(settings, AnsiConsole.Console, cancellationToken);
    }

    private sealed class MicroCli : Command<MicroSettings>
    {
        public override int Execute(CommandContext context, MicroSettings settings, CancellationToken cancellationToken) =>
            MicroCommand.Run([.. settings.Filter is null ? [] : new[] { settings.Filter }, .. context.Remaining.Raw]);
    }

    private sealed class TimersCli : AsyncCommand<TimersSettings>
    {
        public override Task<int> ExecuteAsync(CommandContext context, TimersSettings settings, CancellationToken cancellationToken) =>
            TimersCommand.RunAsync(settings);
    }

    private sealed class HttpCli : AsyncCommand<HttpSettings>
    {
        public override async Task<int> ExecuteAsync(CommandContext context, HttpSettings settings, CancellationToken cancellationToken)
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            return await HttpCommand.RunAsync(settings, AnsiConsole.Console, cancel.Token);
        }
    }

    private sealed class HttpServeCli : AsyncCommand<HttpServeSettings>
    {
        public override Task<int> ExecuteAsync(CommandContext context, HttpServeSettings settings, CancellationToken cancellationToken) =>
            HttpServeCommand.RunAsync(settings.ToConfig());
    }

    private sealed class LoadGenCli : AsyncCommand<LoadGenSettings>
    {
        public override Task<int> ExecuteAsync(CommandContext context, LoadGenSettings settings, CancellationToken cancellationToken) =>
            LoadGenCommand.RunAsync(settings.LoopsValue, settings.Backend);
    }
}
