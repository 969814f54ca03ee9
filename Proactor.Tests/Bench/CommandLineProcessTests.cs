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
}
