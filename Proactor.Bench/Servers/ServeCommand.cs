using System;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Cli;
using Proactor.Bench.Os;

namespace Proactor.Bench.Servers;

/// <summary>
/// <c>serve</c>: runs one echo server until Ctrl+C or SIGTERM. Prints one line,
/// <c>listening on ADDRESS:PORT (what)</c>, which the comparison runner reads to learn the port.
/// A line <c>collect</c> on standard input makes it run a full, compacting garbage collection
/// that gives freed memory back to the OS, then print <c>collected</c> (the <c>idle</c> command's
/// fair reading of resident memory: live objects, not garbage the GC has not come for yet).
/// A line <c>jit</c> makes it print <c>jit METHODS MILLISECONDS</c>: how many methods the JIT
/// compiler has compiled so far and how long it took (the comparison runner reports its share of
/// each run).
/// </summary>
internal static class ServeCommand
{
    public const string ListeningPrefix = "listening on ";

    public const string CollectCommand = "collect";

    public const string CollectedReply = "collected";

    public const string JitCommand = "jit";

    /// <summary>Starts the reply to <see cref="JitCommand"/>: <c>jit METHODS MILLISECONDS</c>.</summary>
    public const string JitReplyPrefix = "jit ";

    public static async Task<int> RunAsync(ServeOptions options)
    {
        DescriptorLimit.Raise();
        using IEchoServer server = Start(options);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        Console.Out.WriteLine($"{ListeningPrefix}{Format(server.EndPoint)} ({server.Name}); Ctrl+C stops");
        Console.Out.Flush();
        var commands = new Thread(ReadCommands) { IsBackground = true, Name = "serve-commands" };
        commands.Start();
        await stopped.Task;
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopped.TrySetResult();
        }
    }

    /// <summary>Standard input, one command a line, until it ends (a terminal, or the runner's pipe).</summary>
    private static void ReadCommands()
    {
        try
        {
            while (Console.In.ReadLine() is { } line)
            {
                switch (line.Trim())
                {
                    case CollectCommand:
                        Collect();
                        Console.Out.WriteLine(CollectedReply);
                        break;
                    case JitCommand:
                        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{JitReplyPrefix}{JitInfo.GetCompiledMethodCount()} {JitInfo.GetCompilationTime().TotalMilliseconds:0.###}"));
                        break;
                    default:
                        continue;
                }

                Console.Out.Flush();
            }
        }
        catch (IOException)
        {
            // no readable standard input: no commands
        }
    }

    /// <summary>Full, blocking, compacting, and aggressive: the GC also decommits the memory it
    /// freed, so the resident set is what live objects need. Twice, around the finalizers, so
    /// objects a finalizer releases are gone too.</summary>
    public static void Collect()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    public static IEchoServer Start(ServeOptions options)
    {
        var endPoint = new IPEndPoint(options.Address, options.Port);
        try
        {
            return options.Server switch
            {
                ServerKind.Sockets => new SocketsEchoServer(endPoint, options.Blocking),
                ServerKind.Blocking => new BlockingEchoServer(endPoint),
                ServerKind.Reactor => new ReactorEchoServer(
                    new EngineOptions { Backend = options.Backend, EpollLevelTriggered = options.LevelTriggered },
                    endPoint),
                _ => new ProactorEchoServer(
                    new EngineOptions
                    {
                        Backend = options.Backend,
                        Dispatch = options.Dispatch,
                        EpollLevelTriggered = options.LevelTriggered,
                        IoUringTryBeforeSubmit = !options.SqeOnly,
                    },
                    endPoint,
                    options.Loops,
                    options.Distribution,
                    options.Blocking),
            };
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new UsageException($"serve: port {options.Port} on {options.Address} is already in use.", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new UsageException($"serve: address {options.Address} is not available on this machine.", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new UsageException($"serve: not allowed to listen on port {options.Port} ({e.Message}).", e);
        }
        catch (Exception e) when (e is NotSupportedException or PlatformNotSupportedException)
        {
            throw new UsageException($"serve: the {options.Backend.ToString().ToLowerInvariant()} backend is not available here: {e.Message}", e);
        }
    }

    public static string Format(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]:{endPoint.Port}" : $"{endPoint.Address}:{endPoint.Port}";
}
