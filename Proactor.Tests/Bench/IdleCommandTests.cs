using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Bench.Cli;
using Proactor.Bench.Compare;
using Proactor.Bench.Idle;
using Proactor.Bench.Servers;
using Proactor.Tests.Infrastructure;
using Spectre.Console;

namespace Proactor.Tests.Bench;

/// <summary>
/// <c>idle</c> reads every .NET server's memory after a full collection it asks the server for
/// (<c>collect</c> on the serve process's standard input), so garbage of the connecting phase does
/// not count as memory of the idle connections.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
public sealed class IdleCommandTests
{
    [TestCase("epoll-et")]
    [TestCase("sockets")]
    public async Task A_served_echo_server_collects_on_request_and_answers_each_time(string name)
    {
        ServerSpec spec = ServerCatalog.Discover().Servers.Single(s => s.Name == name);
        await using ServerProcess server = await ServerProcess.StartAsync(spec, null, TimeSpan.FromSeconds(30)).Timeout();
        Assert.That(await server.CollectAsync(TimeSpan.FromSeconds(20)).Timeout(), Is.True, "first collect answered");
        Assert.That(await server.CollectAsync(TimeSpan.FromSeconds(20)).Timeout(), Is.True, "second collect answered");
        Assert.That(server.HasExited, Is.False, "the server keeps serving after a collection");
    }

    /// <summary>The comparison runner's account of a server's JIT compiler (<c>jit</c> on the serve
    /// process's standard input): it has compiled something by the time it listens, and what it
    /// reports only grows.</summary>
    [TestCase("epoll-et")]
    [TestCase("sockets")]
    public async Task A_served_echo_server_reports_its_jit_compiler_and_the_account_only_grows(string name)
    {
        ServerSpec spec = ServerCatalog.Discover().Servers.Single(s => s.Name == name);
        await using ServerProcess server = await ServerProcess.StartAsync(spec, null, TimeSpan.FromSeconds(30)).Timeout();
        JitSample first = (await server.JitAsync(TimeSpan.FromSeconds(20)).Timeout()) ?? throw new AssertionException("no answer to jit");
        Assert.That(first.Methods, Is.GreaterThan(0), "methods compiled before it listened");
        Assert.That(first.CompilationTime, Is.GreaterThan(TimeSpan.Zero));

        // An echo makes it compile the receive and send paths.
        using (var client = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            client.Connect(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, server.Port));
            client.Send(new byte[] { 1, 2, 3 });
            byte[] echo = new byte[3];
            int got = 0;
            while (got < 3)
            {
                got += client.Receive(echo, got, 3 - got, System.Net.Sockets.SocketFlags.None);
            }
        }

        JitSample second = (await server.JitAsync(TimeSpan.FromSeconds(20)).Timeout()) ?? throw new AssertionException("no answer to the second jit");
        Assert.That(second.Methods, Is.GreaterThan(first.Methods), "the echo's code was compiled after the first answer");
        Assert.That(second.CompilationTime, Is.GreaterThanOrEqualTo(first.CompilationTime));
    }

    [Test]
    public async Task Idle_measures_each_server_and_prints_a_figure_per_connection()
    {
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 240;

        int exit = await IdleCommand.RunAsync(new IdleSettings { Connections = "300", Servers = "epoll-et" }, console, CancellationToken.None).Timeout();

        string text = output.ToString();
        TestContext.Out.WriteLine(text);
        Assert.That(exit, Is.Zero, text);
        string row = text.Split('\n').Single(l => l.Contains("epoll-et", StringComparison.Ordinal) && l.Contains("300", StringComparison.Ordinal));
        Assert.That(row, Does.Match(@"MiB\s*│\s*-?[\d,]+\s*│"), "a bytes-per-connection figure");
        Assert.That(text, Does.Contain("full compacting GC"));
    }
}
