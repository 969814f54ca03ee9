using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.AspNetCore;

/// <summary>
/// Kestrel on the Proactor transport, written once and run on every backend by a sealed fixture
/// that names the engine options (KestrelTransportFixtures.cs). Every test runs a real
/// WebApplication; clients are HttpClient (System.Net.Sockets) or raw sockets where HTTP must be
/// misused (pipelining, aborts).
/// </summary>
[NonParallelizable]
public abstract class KestrelTransportTests
{
    private IReadOnlyDictionary<string, string> _descriptorsBefore = null!;
    private readonly List<IAsyncDisposable> _apps = new();

    /// <summary>The engines' options under test; null for the transport's defaults.</summary>
    protected abstract EngineOptions? Options { get; }

    [SetUp]
    public void SnapshotDescriptors() => _descriptorsBefore = DescriptorCount.Snapshot();

    [TearDown]
    public async Task StopAppsAndCheckForLeaks()
    {
        foreach (IAsyncDisposable app in _apps)
        {
            await app.DisposeAsync().AsTask().Timeout();
        }

        _apps.Clear();
        IReadOnlyDictionary<string, string> after = DescriptorCount.Snapshot();
        for (int i = 0; i < 40 && after.Count > _descriptorsBefore.Count; i++)
        {
            await Task.Delay(50);
            after = DescriptorCount.Snapshot();
        }

        Assert.That(after.Count, Is.LessThanOrEqualTo(_descriptorsBefore.Count),
            $"descriptors leaked by the server or its transport: {DescriptorCount.Describe(_descriptorsBefore, after)}");
    }

    private async Task<KestrelApp> StartAsync(X509Certificate2? certificate = null, Action<Proactor.AspNetCore.ProactorTransportOptions>? configure = null)
    {
        KestrelApp app = await KestrelApp.StartAsync(Options, certificate, configure).Timeout();
        _apps.Add(app);
        return app;
    }

    private static HttpClient Client(int maxConnections = 8, X509Certificate2? trusted = null) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            SslOptions = { RemoteCertificateValidationCallback = (_, c, _, _) => trusted is not null && c?.GetCertHashString() == trusted.GetCertHashString() },
        })
        { Timeout = Net.StepTimeout };

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        for (int i = 0; i < 600 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.That(condition(), Is.True, what);
    }

    private static byte[] Random(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Test]
    public async Task Get_and_post_bodies_from_0_bytes_to_16_MiB_arrive_byte_for_byte()
    {
        int seed = Environment.TickCount;
        TestContext.Out.WriteLine($"seed {seed}");
        KestrelApp app = await StartAsync();
        using HttpClient client = Client();
        foreach (int size in new[] { 0, 1, 4095, 4097, 65537, (1 << 20) + 7, 16 << 20 })
        {
            byte[] got = await client.GetByteArrayAsync(new Uri(app.Address, $"/bytes/{size}")).Timeout();
            Assert.That(got.Length, Is.EqualTo(size), $"GET {size}");
            for (int i = 0; i < size; i++)
            {
                if (got[i] != KestrelApp.PatternAt(i))
                {
                    Assert.Fail($"GET {size}: byte {i} is {got[i]}, expected {KestrelApp.PatternAt(i)}");
                }
            }

            // Every size: the server's SHA-256 of what it received. Up to 1 MiB also echoed: a
            // larger echo would fill both sides' buffers while HttpClient (not duplex over HTTP/1.1)
            // still sends, on any transport.
            byte[] body = Random(size, seed + size);
            using HttpResponseMessage hashed = await client.PostAsync(new Uri(app.Address, "/sha256"), new ByteArrayContent(body)).Timeout();
            Assert.That(await hashed.Content.ReadAsStringAsync().Timeout(), Is.EqualTo($"{size}:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body))}"),
                $"POST {size}: the server received other bytes (seed {seed})");
            if (size <= (1 << 20) + 7)
            {
                using HttpResponseMessage response = await client.PostAsync(new Uri(app.Address, "/echo"), new ByteArrayContent(body)).Timeout();
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                byte[] echoed = await response.Content.ReadAsByteArrayAsync().Timeout();
                Assert.That(echoed.AsSpan().SequenceEqual(body), Is.True, $"POST {size}: the echo differs (seed {seed})");
            }
        }
    }

    [Test]
    public async Task Keep_alive_and_pipelined_requests_are_answered_in_order_on_one_connection()
    {
        KestrelApp app = await StartAsync();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, app.Address.Port).Timeout();
        string Request(int n) => $"GET /bytes/{n} HTTP/1.1\r\nHost: x\r\n\r\n";

        // Three requests in one send (pipelined), then two more one at a time (keep-alive).
        await socket.SendAsync(Encoding.ASCII.GetBytes(Request(10) + Request(5000) + Request(3))).Timeout();
        var reader = new RawHttpReader(socket);
        foreach (int n in new[] { 10, 5000, 3 })
        {
            byte[] body = await reader.ReadResponseAsync().Timeout();
            Assert.That(body, Is.EqualTo(Enumerable.Range(0, n).Select(i => KestrelApp.PatternAt(i)).ToArray()), $"the response to the request for {n} bytes");
        }

        foreach (int n in new[] { 7, 70000 })
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(Request(n))).Timeout();
            byte[] body = await reader.ReadResponseAsync().Timeout();
            Assert.That(body.Length, Is.EqualTo(n));
        }

        Assert.That(app.Transport.OpenConnections, Is.EqualTo(1), "every request went over the one connection");
    }

    [Test]
    public async Task A_handler_that_blocks_its_thread_does_not_hold_up_requests_on_other_connections()
    {
        KestrelApp app = await StartAsync();
        using var blocked = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await blocked.ConnectAsync(IPAddress.Loopback, app.Address.Port).Timeout();
        await blocked.SendAsync(Encoding.ASCII.GetBytes("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")).Timeout();
        for (int i = 0; i < 600 && Volatile.Read(ref app.BlockEntered) == 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.That(Volatile.Read(ref app.BlockEntered), Is.EqualTo(1), "the blocking request reached its handler");

        // Four more connections: with two loops, at least two share the blocked one's loop.
        var others = new List<Socket>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                others.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, app.Address.Port).Timeout();
                await socket.SendAsync(Encoding.ASCII.GetBytes("GET /bytes/13 HTTP/1.1\r\nHost: x\r\n\r\n")).Timeout();
                byte[] body = await new RawHttpReader(socket).ReadResponseAsync().Timeout();
                Assert.That(body, Is.EqualTo(Enumerable.Range(0, 13).Select(i => KestrelApp.PatternAt(i)).ToArray()), $"connection {i} answered while a handler blocked");
            }
        }
        finally
        {
            app.BlockGate.Set();
            foreach (Socket socket in others)
            {
                socket.Dispose();
            }
        }

        byte[] released = await new RawHttpReader(blocked).ReadResponseAsync().Timeout();
        Assert.That(Encoding.ASCII.GetString(released), Is.EqualTo("released"));
    }

    [TestCase("threadpool")]
    [TestCase("inline")]
    public async Task Every_application_scheduler_serves_keep_alive_and_pipelined_requests(string scheduler)
    {
        KestrelApp app = await StartAsync(configure: o => o.ApplicationScheduler = scheduler == "inline" ? System.IO.Pipelines.PipeScheduler.Inline : System.IO.Pipelines.PipeScheduler.ThreadPool);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, app.Address.Port).Timeout();
        string Request(int n) => $"GET /bytes/{n} HTTP/1.1\r\nHost: x\r\n\r\n";
        var reader = new RawHttpReader(socket);
        await socket.SendAsync(Encoding.ASCII.GetBytes(Request(10) + Request(70000) + Request(3))).Timeout();
        foreach (int n in new[] { 10, 70000, 3, 5 })
        {
            if (n == 5)
            {
                await socket.SendAsync(Encoding.ASCII.GetBytes(Request(n))).Timeout();
            }

            byte[] body = await reader.ReadResponseAsync().Timeout();
            Assert.That(body, Is.EqualTo(Enumerable.Range(0, n).Select(i => KestrelApp.PatternAt(i)).ToArray()), $"the response to the request for {n} bytes");
        }
    }

    [Test]
    public async Task Clients_that_abort_mid_request_and_mid_response_leave_the_server_healthy_and_no_connection_open()
    {
        KestrelApp app = await StartAsync();
        for (int round = 0; round < 3; round++)
        {
            // Mid-request: half the declared body, then a reset.
            using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                await socket.ConnectAsync(IPAddress.Loopback, app.Address.Port).Timeout();
                await socket.SendAsync(Encoding.ASCII.GetBytes("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n")).Timeout();
                await socket.SendAsync(new byte[300_000]).Timeout();
                socket.LingerState = new LingerOption(true, 0);
            }

            // Mid-response: read a little of 64 MiB, then a reset.
            using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                await socket.ConnectAsync(IPAddress.Loopback, app.Address.Port).Timeout();
                await socket.SendAsync(Encoding.ASCII.GetBytes("GET /bytes/67108864 HTTP/1.1\r\nHost: x\r\n\r\n")).Timeout();
                byte[] some = new byte[65536];
                int got = 0;
                while (got < some.Length)
                {
                    int n = await socket.ReceiveAsync(some.AsMemory(got)).Timeout();
                    Assert.That(n, Is.GreaterThan(0), "the response ended early");
                    got += n;
                }

                socket.LingerState = new LingerOption(true, 0);
            }
        }

        await WaitForAsync(() => app.Transport.OpenConnections == 0, $"aborted connections still open: {app.Transport.OpenConnections}");
        using HttpClient client = Client();
        Assert.That(await client.GetStringAsync(new Uri(app.Address, "/plaintext")).Timeout(), Is.EqualTo("Hello, World!"));
    }

    [Test]
    public async Task Many_concurrent_clients_are_served_and_spread_over_the_loops()
    {
        int seed = Environment.TickCount;
        TestContext.Out.WriteLine($"seed {seed}");
        KestrelApp app = await StartAsync();
        const int Clients = 64;
        using HttpClient client = Client(maxConnections: Clients);
        using var allStarted = new CountdownEvent(Clients);
        Task[] tasks = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(seed + c);
            for (int r = 0; r < 10; r++)
            {
                byte[] body = new byte[random.Next(0, 20000)];
                random.NextBytes(body);
                using HttpResponseMessage response = await client.PostAsync(new Uri(app.Address, "/echo"), new ByteArrayContent(body));
                byte[] echoed = await response.Content.ReadAsByteArrayAsync();
                Assert.That(echoed.AsSpan().SequenceEqual(body), Is.True, $"client {c} request {r} (seed {seed})");
            }
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(120));
        TestContext.Out.WriteLine($"{app.Transport.OpenConnections} connections; sockets per loop: {string.Join(", ", app.Transport.EngineGroup!.Engines.Select(e => e.SocketCount))}");
        Assert.That(app.Transport.OpenConnections, Is.GreaterThan(1));
        Assert.That(app.Transport.EngineGroup!.Engines.Count(e => e.SocketCount > 0), Is.EqualTo(2), "both loops got connections");
    }

    [Test]
    public async Task Https_with_a_self_signed_certificate_and_http2_over_tls_by_alpn()
    {
        int seed = Environment.TickCount;
        TestContext.Out.WriteLine($"seed {seed}");
        X509Certificate2 certificate;
        try
        {
            certificate = KestrelApp.CreateCertificate();
        }
        catch (System.Security.Cryptography.CryptographicException e) when (Proactor.Tests.Backends.IocpEnvironment.IsWine)
        {
            // Wine's bcrypt cannot make the RSA key (BCryptGetDWordProperty fails); not the transport's.
            Assert.Ignore($"Wine cannot create the test certificate: {e.Message}");
            return;
        }

        using X509Certificate2 owned = certificate;
        KestrelApp app = await StartAsync(certificate);
        Assert.That(app.Address.Scheme, Is.EqualTo("https"));
        using HttpClient client = Client(trusted: certificate);

        // An echo of a body larger than HTTP/2's initial windows stalls HttpClient and Kestrel on
        // any transport (seen with Sockets too): large bodies go one way at a time here.
        byte[] body = Random(60_000, seed);
        const int Large = (4 << 20) + 3;
        foreach (Version version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
        {
            // Several requests at once: over HTTP/2 they are streams of one TLS connection.
            Task[] requests = Enumerable.Range(0, 6).Select(async i =>
            {
                using var echo = new HttpRequestMessage(HttpMethod.Post, new Uri(app.Address, "/echo"))
                {
                    Version = version,
                    VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                    Content = new ByteArrayContent(body),
                };
                using HttpResponseMessage response = await client.SendAsync(echo);
                Assert.That(response.Version, Is.EqualTo(version), "the protocol ALPN chose");
                byte[] echoed = await response.Content.ReadAsByteArrayAsync();
                Assert.That(echoed.AsSpan().SequenceEqual(body), Is.True, $"HTTP/{version} request {i}: the echo differs (seed {seed})");

                using var get = new HttpRequestMessage(HttpMethod.Get, new Uri(app.Address, $"/bytes/{Large}"))
                {
                    Version = version,
                    VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                };
                using HttpResponseMessage large = await client.SendAsync(get);
                Assert.That(large.Version, Is.EqualTo(version));
                byte[] got = await large.Content.ReadAsByteArrayAsync();
                Assert.That(got.Length, Is.EqualTo(Large));
                for (int b = 0; b < got.Length; b++)
                {
                    if (got[b] != KestrelApp.PatternAt(b))
                    {
                        Assert.Fail($"HTTP/{version} GET: byte {b} differs");
                    }
                }
            }).ToArray();
            await Task.WhenAll(requests).Timeout();
        }
    }

    [Test]
    public async Task An_idle_keep_alive_connection_holds_no_buffer()
    {
        KestrelApp app = await StartAsync();
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, app.Address.Port).Timeout();
                await socket.SendAsync(Encoding.ASCII.GetBytes("GET /bytes/100 HTTP/1.1\r\nHost: x\r\n\r\n")).Timeout();
                Assert.That((await new RawHttpReader(socket).ReadResponseAsync().Timeout()).Length, Is.EqualTo(100));
            }

            Assert.That(app.Transport.OpenConnections, Is.EqualTo(10));
            await WaitForAsync(() => app.Transport.MemoryPool.RentedBlocks == 0,
                $"10 idle keep-alive connections hold {app.Transport.MemoryPool.RentedBlocks} blocks");
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    [Test]
    public async Task Graceful_shutdown_under_load_stops_accepting_and_lets_in_flight_requests_finish()
    {
        KestrelApp app = await StartAsync();
        const int Slow = 6;
        var clients = Enumerable.Range(0, Slow).Select(_ => Client(maxConnections: 1)).ToList();
        using var loadClient = Client(maxConnections: 4);
        using var stopLoad = new CancellationTokenSource();
        Task load = Task.CompletedTask;
        try
        {
            Task<string>[] slow = clients.Select(c => c.GetStringAsync(new Uri(app.Address, "/slow"))).ToArray();
            int loadServed = 0;
            load = Task.Run(async () =>
            {
                while (!stopLoad.IsCancellationRequested)
                {
                    try
                    {
                        await loadClient.GetStringAsync(new Uri(app.Address, "/plaintext"), stopLoad.Token);
                        Interlocked.Increment(ref loadServed);
                    }
                    catch (Exception) when (stopLoad.IsCancellationRequested || Volatile.Read(ref loadServed) > 0)
                    {
                        // Refused or closed once the server stops: expected under shutdown.
                        await Task.Delay(10);
                    }
                }
            });
            await WaitForAsync(() => Volatile.Read(ref app.SlowEntered) == Slow && Volatile.Read(ref loadServed) > 20, "the slow requests and the load started");

            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            Task stopping = app.StopAsync(stopTimeout.Token);

            // Unbound: a new connection is refused while the in-flight requests still wait.
            await WaitForAsync(() =>
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    probe.Connect(IPAddress.Loopback, app.Address.Port);
                    return false;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    return true;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
                {
                    return false; // reached the listener while it closed: the next probe is refused
                }
            }, "the listener still accepts connections after StopAsync began");
            Assert.That(stopping.IsCompleted, Is.False, "the stop did not wait for the in-flight requests");
            Assert.That(slow.Any(t => t.IsCompleted), Is.False, "an in-flight request ended before it was released");

            app.SlowGate.SetResult();
            foreach (Task<string> request in slow)
            {
                Assert.That(await request.Timeout(), Is.EqualTo("done"), "an in-flight request did not finish");
            }

            await stopping.Timeout();
            stopLoad.Cancel();
            await load.Timeout();
            Assert.That(app.Transport.OpenConnections, Is.Zero, "connections left open after the stop");
            Assert.That(app.Transport.EngineGroup!.Engines.Sum(e => e.SocketCount), Is.Zero, "sockets left open on the engines");
        }
        finally
        {
            // Also when an assertion failed: a load loop left running would allocate for the
            // rest of the process and fail every allocation measurement after this test.
            stopLoad.Cancel();
            await Task.WhenAny(load, Task.Delay(Net.StepTimeout));
            clients.ForEach(c => c.Dispose());
        }
    }
}
