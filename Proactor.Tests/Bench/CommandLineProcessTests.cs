using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Bench.Os;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Bench;

/// <summary>
/// The real program, started as a child process: a bad backend, an unavailable backend or a port
/// in use end with exactly one line on stderr and a non-zero exit code, never a stack trace.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class CommandLineProcessTests
{
    private static async Task<(int ExitCode, string[] Stderr)> RunAsync(params string[] args)
    {
        (int exitCode, string[] stderr, _) = await RunWithOutputAsync(args);
        return (exitCode, stderr);
    }

    private static async Task<(int ExitCode, string[] Stderr, string Stdout)> RunWithOutputAsync(params string[] args)
    {
        ProcessStartInfo info = SelfLauncher.Create(args);
        using Process process = Process.Start(info)!;
        process.StandardInput.Close();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().Timeout();
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        string output = await stdout.Timeout();
        string[] lines = (await stderr.Timeout()).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return (process.ExitCode, lines, output);
    }

    [TestCase("serve", "--backend", "kqueue", "unknown backend 'kqueue'")]
    [TestCase("serve", "--backend", "iocp", "iocp backend is not available here")]
    [TestCase("compare", "--servers", "nosuch", "unknown server 'nosuch'")]
    [TestCase("frobnicate", "", "", "Unknown command 'frobnicate'")]
    [TestCase("compare", "--rounds", "", "option '--rounds' needs a value")]
    [TestCase("http", "--wrk", "/nonexistent/wrk", "apt-get install -y wrk")]
    [TestCase("http", "--servers", "nginx", "unknown server 'nginx'")]
    public async Task A_bad_command_line_ends_with_one_clear_line(string a, string b, string c, string expected)
    {
        string[] args = new[] { a, b, c }.Where(s => s.Length > 0).ToArray();
        (int exitCode, string[] stderr) = await RunAsync(args);

        Assert.That(exitCode, Is.Not.Zero);
        Assert.That(stderr, Has.Length.EqualTo(1), string.Join(Environment.NewLine, stderr));
        Assert.That(stderr[0], Does.StartWith("error: ").And.Contain(expected));
    }

    [Test]
    public async Task A_port_in_use_ends_with_one_clear_line()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        (int exitCode, string[] stderr) = await RunAsync("serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.That(exitCode, Is.Not.Zero);
        Assert.That(stderr, Has.Length.EqualTo(1), string.Join(Environment.NewLine, stderr));
        Assert.That(stderr[0], Does.Contain($"port {port}").And.Contain("already in use"));
    }

    [Test]
    public async Task Compare_help_lists_its_options_and_exits_zero()
    {
        // The old hand-written parser answered "unknown option '--help'".
        (int exitCode, string[] stderr, string stdout) = await RunWithOutputAsync("compare", "--help");

        Assert.That(exitCode, Is.Zero, string.Join(Environment.NewLine, stderr));
        Assert.That(stderr, Is.Empty);
        Assert.That(stdout, Does.Contain("--quick").And.Contain("--rounds").And.Contain("--external").And.Contain("--servers"));
    }

    /// <summary>
    /// The Kestrel bench server reads its standard input (the runner's stop signal and "stats"
    /// commands) for its whole life. On a thread-pool thread that read would take the pool's one
    /// worker of a process pinned to one processor, and requests waited for the pool's starvation
    /// check (0.5 s stalls in wrk's latencies). With the pool held to one worker the old server
    /// never answers; the server must answer at once, on either transport.
    /// </summary>
    [TestCase("sockets")]
    [TestCase("proactor")]
    public async Task Http_serve_answers_with_a_single_pool_worker(string transport)
    {
        ProcessStartInfo info = SelfLauncher.Create(["http-serve", "--transport", transport, "--port", "0"]);
        info.Environment["DOTNET_PROCESSOR_COUNT"] = "1";
        info.Environment["DOTNET_ThreadPool_ForceMinWorkerThreads"] = "1";
        info.Environment["DOTNET_ThreadPool_ForceMaxWorkerThreads"] = "1";
        using Process process = Process.Start(info)!;
        _ = process.StandardError.ReadToEndAsync();
        try
        {
            string? line;
            do
            {
                line = await process.StandardOutput.ReadLineAsync().Timeout();
            }
            while (line is not null && !line.StartsWith("http listening on ", StringComparison.Ordinal));

            Assert.That(line, Is.Not.Null, "the server exited before listening");
            int port = int.Parse(line!["http listening on ".Length..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

            using var client = new System.Net.Http.HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            for (int i = 0; i < 3; i++)
            {
                string body = await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/plaintext"));
                Assert.That(body, Is.EqualTo("Hello, World!"));
            }

            process.StandardInput.Close(); // the server's stop signal
            await process.WaitForExitAsync().Timeout();
            Assert.That(process.ExitCode, Is.Zero);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
