using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Bench.Compare;
using Proactor.Bench.Load;
using Proactor.Bench.Servers;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Bench;

/// <summary>
/// The Unix-socket and UDP ping-pongs of <c>compare</c>: the load generator reaches each echo
/// server's Unix listener (derived from its port) and UDP echo, checks every byte, and the
/// servers without a Unix listener are skipped with a reason; with the clients on io_uring and on
/// epoll.
/// </summary>
[TestFixture("io_uring")]
[TestFixture("epoll-et")]
[Platform("Linux")]
[Category("Linux")]
public sealed class UnixAndUdpWorkloadTests(string clientBackend)
{
    private static LoadRequest Request(int port, LoadMode mode) => new()
    {
        Port = port,
        Mode = mode,
        Connections = 2,
        MessageSize = 64,
        WarmupSeconds = 0,
        DurationSeconds = 0.3,
        DrainSeconds = 1,
    };

    private static IEchoServer Start(string kind) => kind switch
    {
        "sockets" => new SocketsEchoServer(new IPEndPoint(IPAddress.Loopback, 0)),
        "proactor-group" => new ProactorEchoServer(new EngineOptions { Backend = BackendKind.Epoll }, new IPEndPoint(IPAddress.Loopback, 0), loops: 2),
        _ => new ProactorEchoServer(new EngineOptions { Backend = BackendKind.Epoll }, new IPEndPoint(IPAddress.Loopback, 0)),
    };

    [TestCase("sockets", "UnixPingPong")]
    [TestCase("proactor", "UnixPingPong")]
    [TestCase("proactor-group", "UnixPingPong")]
    [TestCase("sockets", "UdpPingPong")]
    [TestCase("proactor", "UdpPingPong")]
    public async Task The_load_generator_gets_every_byte_back(string server, string modeName)
    {
        LoadMode mode = Enum.Parse<LoadMode>(modeName);
        using IEchoServer echo = Start(server);

        LoadResult result = await LoadGenerator.RunAsync(Request(echo.EndPoint.Port, mode), clientBackend).Timeout();

        Assert.That(result.Fatal, Is.Null);
        Assert.That(result.Errors, Is.Zero, string.Join("; ", result.ErrorSamples));
        Assert.That(result.Messages, Is.GreaterThan(0));
        Assert.That(result.Bytes, Is.EqualTo(result.Messages * 64));
    }

    [TestCase("sockets")]
    [TestCase("proactor")]
    public void The_unix_listener_is_at_the_ports_path_and_its_file_goes_with_the_server(string server)
    {
        IEchoServer echo = Start(server);
        string path = UnixEcho.PathFor(echo.EndPoint.Port);
        Assert.That(File.Exists(path), Is.True, path);

        echo.Dispose();

        Assert.That(File.Exists(path), Is.False, "a stale file would make the next server on this port fail to bind");
    }

    [Test]
    public async Task A_server_without_a_unix_listener_is_a_fatal_round_not_a_hang()
    {
        // No server at all on this port's path: the connect is refused at once.
        using var taken = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        File.Delete(UnixEcho.PathFor(port));

        LoadResult result = await LoadGenerator.RunAsync(Request(port, LoadMode.UnixPingPong), clientBackend).Timeout();

        Assert.That(result.Fatal, Does.Contain(UnixEcho.PathFor(port)));
        Assert.That(result.Messages, Is.Zero);
    }

    [Test]
    public void Only_servers_with_a_unix_listener_run_the_unix_workloads()
    {
        ServerCatalog.Catalog catalog = ServerCatalog.Discover();
        ServerSpec Named(string name) => catalog.Servers.Single(s => s.Name == name);
        Assert.Multiple(() =>
        {
            Assert.That(ComparePlan.ServesUnix(ServerCatalog.Sockets), Is.True);
            Assert.That(ComparePlan.ServesUnix(Named("epoll-et")), Is.True);
            Assert.That(ComparePlan.ServesUnix(Named("epoll-et/inline")), Is.True);
            Assert.That(ComparePlan.ServesUnix(Named("epoll-et/queue")), Is.False, "the queue-driven echo has no Unix accept loop");
            Assert.That(ComparePlan.ServesUnix(Named("reactor/epoll-et")), Is.False);
            Assert.That(ComparePlan.ServesUnix(ServerCatalog.Blocking), Is.False);
            Assert.That(ComparePlan.ServesUnix(new ServerSpec { Name = "go", Kind = ServerKind.External, Description = "" }), Is.False);
        });
    }

    [Test]
    public void Servers_without_a_udp_echo_skip_the_udp_workloads()
    {
        ServerCatalog.Catalog catalog = ServerCatalog.Discover();
        ServerSpec Named(string name) => catalog.Servers.Single(s => s.Name == name);
        Assert.Multiple(() =>
        {
            Assert.That(ComparePlan.ServesUdp(ServerCatalog.Sockets), Is.True);
            Assert.That(ComparePlan.ServesUdp(ServerCatalog.Blocking), Is.True);
            Assert.That(ComparePlan.ServesUdp(Named("epoll-et")), Is.True);
            Assert.That(ComparePlan.ServesUdp(Named("epoll-et/queue")), Is.False, "the queue-driven server starts no UDP echo");
            Assert.That(ComparePlan.ServesUdp(Named("reactor/epoll-et")), Is.False, "the Reactor server starts no UDP echo");
        });
    }

    [Test]
    public void The_default_profile_has_unix_and_udp_ping_pongs()
    {
        var workloads = WorkloadCatalog.For(Proactor.Bench.Cli.RunProfile.Default, []);
        Assert.That(workloads.Where(w => w.Mode == LoadMode.UnixPingPong).Select(w => (w.Name, w.Connections)),
            Is.EqualTo(new[] { ("unix-pingpong-1", 1), ("unix-pingpong-64", 64) }));
        Assert.That(workloads.Where(w => w.Mode == LoadMode.UdpPingPong).Select(w => w.Name),
            Is.EqualTo(new[] { "udp-pingpong-1", "udp-pingpong-64" }));
    }
}
