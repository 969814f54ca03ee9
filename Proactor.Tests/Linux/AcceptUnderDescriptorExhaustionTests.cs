using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Linux;

/// <summary>
/// A server out of file descriptors (EMFILE), for real: a child process lowers its RLIMIT_NOFILE,
/// fills its descriptor table, and a client connects. The accept must fail with
/// TooManyOpenSockets or wait (a group listener waits: it retries), must not spin meanwhile (the
/// child's CPU time over one second stays low), and must recover once descriptors are freed: the
/// waiting client is accepted and served. The child prints one result line; this side asserts.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[NonParallelizable]
public sealed class AcceptUnderDescriptorExhaustionTests
{
    [TestCase("epoll", "listener")]
    [TestCase("epoll-lt", "listener")]
    [TestCase("poll", "listener")]
    [TestCase("select", "listener")]
    [TestCase("io_uring", "listener")]
    [TestCase("epoll", "group-roundrobin")]
    [TestCase("epoll", "group-reuseport")]
    [TestCase("epoll-lt", "group-reuseport")]
    [TestCase("poll", "group-roundrobin")]
    [TestCase("io_uring", "group-reuseport")]
    [TestCase("io_uring", "group-roundrobin")]
    public async Task An_accept_out_of_descriptors_fails_or_waits_without_spinning_and_recovers(string backend, string mode)
    {
        (int exitCode, string stdout, string stderr) = await ChildProcess.RunAsync(
            $"{AcceptUnderDescriptorExhaustionChild.Name} {backend} {mode}", TimeSpan.FromSeconds(90));
        TestContext.Out.WriteLine(stdout);
        Assert.That(exitCode, Is.Zero, $"the child failed:{Environment.NewLine}{stdout}{stderr}");

        string? line = stdout.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        Assert.That(line, Is.Not.Null, $"no result line:{Environment.NewLine}{stdout}{stderr}");
        Dictionary<string, string> result = line!.Split(' ').Skip(1).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);

        bool group = mode.StartsWith("group", StringComparison.Ordinal);
        Assert.Multiple(() =>
        {
            Assert.That(int.Parse(result["filled"], CultureInfo.InvariantCulture), Is.GreaterThan(0), "the descriptor table was filled");
            if (group)
            {
                // A group listener never hands the error out: it retries, and says so.
                Assert.That(result["outcome"], Is.EqualTo("pending"), "a group listener's accept while out of descriptors");
                Assert.That(long.Parse(result["accept_errors"], CultureInfo.InvariantCulture), Is.GreaterThan(0), "the group saw EMFILE (proof the table was full)");

                // Retries back off (at least 10 ms each, per loop): about a dozen per loop in that
                // second. A retry at once makes tens of thousands, however little CPU it was given.
                Assert.That(long.Parse(result["accept_errors"], CultureInfo.InvariantCulture), Is.LessThan(500), "accept retries in one second out of descriptors");
                Assert.That(int.Parse(result["warnings"], CultureInfo.InvariantCulture), Is.GreaterThan(0), "the group reported the error");
            }
            else
            {
                Assert.That(result["outcome"], Is.AnyOf("pending", "failed:" + nameof(SocketError.TooManyOpenSockets)), "the accept while out of descriptors");
            }

            // Generous: a spinning loop burns a whole core (~1000 ms); an idle or backing-off one a few ms.
            Assert.That(int.Parse(result["cpu_ms"], CultureInfo.InvariantCulture), Is.LessThan(500), "CPU time over one second out of descriptors");
            Assert.That(result["recovered"], Is.EqualTo("true"), "the waiting client was accepted and served once descriptors were free");
        });
    }
}

/// <summary>The child side of <see cref="AcceptUnderDescriptorExhaustionTests"/>.</summary>
internal static partial class AcceptUnderDescriptorExhaustionChild
{
    public const string Name = "accept-emfile";

    private const int RLIMIT_NOFILE = 7;
    private const int EMFILE = 24;
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    [SupportedOSPlatform("linux")]
    public static async Task<int> RunAsync(string[] args)
    {
        // The limit is lowered before any engine exists: io_uring takes a request's descriptor limit
        // when the request is prepared (a multishot accept armed earlier would ignore a later limit).
        RLimit saved;
        Check(GetRLimit(RLIMIT_NOFILE, out saved) == 0, "getrlimit");
        RLimit lowered = new() { Current = Math.Min(saved.Current, 256), Maximum = saved.Maximum };
        Check(SetRLimit(RLIMIT_NOFILE, in lowered) == 0, "setrlimit");

        string backend = args[0];
        string mode = args[1];
        int warnings = 0;
        EngineOptions options = (backend switch
        {
            "epoll" => new EngineOptions { Backend = BackendKind.Epoll },
            "epoll-lt" => new EngineOptions { Backend = BackendKind.Epoll, EpollLevelTriggered = true },
            "poll" => new EngineOptions { Backend = BackendKind.Poll },
            "select" => new EngineOptions { Backend = BackendKind.Select },
            "io_uring" => new EngineOptions { Backend = BackendKind.IoUring },
            _ => throw new ArgumentException($"unknown backend {backend}"),
        }) with
        { Warning = _ => Interlocked.Increment(ref warnings) };

        using ProactorEngine? engine = mode == "listener" ? EngineFactory.Create(options) : null;
        using ProactorEngineGroup? group = mode == "listener" ? null : EngineFactory.CreateGroup(2, options);
        using ProactorSocket? listener = engine is null ? null : ProactorSocket.CreateListener(engine, new IPEndPoint(IPAddress.Loopback, 0), 16);
        using GroupListener? groupListener = group?.Listen(new IPEndPoint(IPAddress.Loopback, 0), mode switch
        {
            "group-roundrobin" => AcceptDistribution.RoundRobin,
            "group-reuseport" => AcceptDistribution.ReusePort,
            _ => throw new ArgumentException($"unknown mode {mode}"),
        }, 16);
        IPEndPoint endPoint = groupListener?.LocalEndPoint ?? (IPEndPoint)listener!.LocalEndPoint!;
        Func<Task<ProactorSocket>> accept = groupListener is not null
            ? () => groupListener.AcceptAsync().AsTask()
            : () => listener!.AcceptAsync().AsTask();

        // Every socket the child needs is created while descriptors are free.
        using var warmUpClient = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        byte[] one = new byte[1];

        // Warm up every path once: code that first runs while the table is full must not need to
        // open a file (an assembly to load).
        Task<ProactorSocket> warmAccept = accept();
        warmUpClient.Connect(endPoint);
        using (ProactorSocket warm = await warmAccept.WaitAsync(StepTimeout))
        {
            warmUpClient.Send(new byte[] { 1 });
            await warm.ReceiveAsync(one).AsTask().WaitAsync(StepTimeout);
            await warm.SendAsync(one).AsTask().WaitAsync(StepTimeout);
            warmUpClient.Receive(one);
        }

        try
        {
            throw new SocketException((int)SocketError.TooManyOpenSockets);
        }
        catch (SocketException e)
        {
            _ = e.SocketErrorCode.ToString();
        }

        // The runtime cannot start a thread while the table is full (it fails with "Out of memory"),
        // so the thread pool's gate thread and a few workers are started now.
        ThreadPool.GetMinThreads(out int workers, out int completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, 8), completionPorts);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Thread.Sleep(100))));

        Close(Dup(1)); // binds both imports now: the first call of one loads its library
        _ = Environment.CpuUsage.TotalTime;
        await Task.Delay(1);

        // Out of descriptors: fill the table up to the lowered limit.
        var filler = new List<int>();
        while (true)
        {
            int fd = Dup(1);
            if (fd < 0)
            {
                Check(Marshal.GetLastPInvokeError() == EMFILE, "dup failed with EMFILE");
                break;
            }

            filler.Add(fd);
        }

        string outcome;
        TimeSpan cpu;
        Task<ProactorSocket> accepting;
        try
        {
            // The accept waits first, as a server's does: the connection then reaches it through the
            // loop (readiness, or the kernel's accept completing), where an error must leave nothing spinning.
            TimeSpan cpuBefore = Environment.CpuUsage.TotalTime;
            accepting = accept();
            client.Connect(endPoint); // the kernel completes the handshake: no descriptor needed yet
            await Task.Delay(1000);
            cpu = Environment.CpuUsage.TotalTime - cpuBefore;
            outcome = !accepting.IsCompleted ? "pending"
                : accepting.IsCompletedSuccessfully ? "accepted"
                : accepting.Exception!.InnerException is SocketException se ? "failed:" + se.SocketErrorCode
                : "failed:" + accepting.Exception!.InnerException!.GetType().Name;
        }
        finally
        {
            foreach (int fd in filler)
            {
                Close(fd);
            }

        }

        // Descriptors are free again: the waiting client is accepted (by the pending accept or a new one).
        if (accepting.IsCompleted && !accepting.IsCompletedSuccessfully)
        {
            accepting = accept();
        }

        bool recovered;
        using (ProactorSocket server = await accepting.WaitAsync(StepTimeout))
        {
            client.Send(new byte[] { 7 });
            int n = await server.ReceiveAsync(one).AsTask().WaitAsync(StepTimeout);
            recovered = n == 1 && one[0] == 7;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT outcome={outcome} cpu_ms={cpu.TotalMilliseconds:F0} recovered={(recovered ? "true" : "false")} filled={filler.Count} warnings={Volatile.Read(ref warnings)} accept_errors={groupListener?.AcceptErrorCount ?? -1}"));
        return 0;
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"{what} failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc.so.6", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc.so.6", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    [LibraryImport("libc.so.6", EntryPoint = "dup", SetLastError = true)]
    private static partial int Dup(int fd);

    [LibraryImport("libc.so.6", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
