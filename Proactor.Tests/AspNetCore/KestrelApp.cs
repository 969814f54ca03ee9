using System;
using System.Buffers;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Proactor.AspNetCore;

namespace Proactor.Tests.AspNetCore;

/// <summary>A real Kestrel app on the Proactor transport, on 127.0.0.1 and a port the OS picks.</summary>
internal sealed class KestrelApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KestrelApp(WebApplication app, Uri address, ProactorTransportFactory transport)
    {
        _app = app;
        Address = address;
        Transport = transport;
    }

    public Uri Address { get; }

    public ProactorTransportFactory Transport { get; }

    /// <summary>Opened by the test: /slow waits for it.</summary>
    public TaskCompletionSource SlowGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Requests that reached /slow.</summary>
    public int SlowEntered;

    /// <summary>Set by the test: /block blocks its thread (synchronously) until then.</summary>
    public ManualResetEventSlim BlockGate { get; } = new();

    /// <summary>Requests that reached /block.</summary>
    public int BlockEntered;

    public static byte PatternAt(long i) => (byte)((i * 31) + (i >> 12) + 7);

    public static async Task<KestrelApp> StartAsync(EngineOptions? engine, X509Certificate2? certificate = null, Action<ProactorTransportOptions>? configure = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseProactor(o =>
        {
            if (engine is not null)
            {
                o.Engine = engine; // otherwise the transport's own default, as UseProactor() gives a user
            }

            o.Loops = 2; // main + one sub loop: connections spread over both
            configure?.Invoke(o);
        });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = 64L * 1024 * 1024;
            k.Listen(IPAddress.Loopback, 0, listen =>
            {
                if (certificate is not null)
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(certificate);
                }
            });
        });
        WebApplication app = builder.Build();
        KestrelApp? self = null;
        app.MapGet("/plaintext", () => "Hello, World!");
        app.MapGet("/bytes/{n:long}", async (long n, HttpContext context) =>
        {
            context.Response.ContentLength = n;
            for (long at = 0; at < n;)
            {
                int chunk = (int)Math.Min(64 * 1024, n - at);
                Memory<byte> memory = context.Response.BodyWriter.GetMemory(chunk);
                for (int i = 0; i < chunk; i++)
                {
                    memory.Span[i] = PatternAt(at + i);
                }

                context.Response.BodyWriter.Advance(chunk);
                at += chunk;
                await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
            }
        });
        app.MapPost("/echo", async (HttpContext context) =>
        {
            context.Response.ContentLength = context.Request.ContentLength;
            await context.Request.BodyReader.CopyToAsync(context.Response.BodyWriter, context.RequestAborted);
        });
        app.MapPost("/sha256", async (HttpContext context) =>
        {
            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long length = 0;
            while (true)
            {
                System.IO.Pipelines.ReadResult read = await context.Request.BodyReader.ReadAsync(context.RequestAborted);
                foreach (ReadOnlyMemory<byte> segment in read.Buffer)
                {
                    hash.AppendData(segment.Span);
                    length += segment.Length;
                }

                context.Request.BodyReader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            return $"{length}:{Convert.ToHexString(hash.GetHashAndReset())}";
        });
        app.MapGet("/slow", async () =>
        {
            Interlocked.Increment(ref self!.SlowEntered);
            await self.SlowGate.Task;
            return "done";
        });

        app.MapGet("/block", (HttpContext context) =>
        {
            Interlocked.Increment(ref self!.BlockEntered);
            byte[] body = Encoding.ASCII.GetBytes(self.BlockGate.Wait(TimeSpan.FromSeconds(60)) ? "released" : "timed out");
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body).AsTask();
        });

        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var transport = app.Services.GetServices<IConnectionListenerFactory>().OfType<ProactorTransportFactory>().Single();
        self = new KestrelApp(app, new Uri(address), transport);
        return self;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        SlowGate.TrySetResult();
        BlockGate.Set();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        BlockGate.Dispose();
    }

    /// <summary>A self-signed server certificate for 127.0.0.1 and localhost, made here.</summary>
    public static X509Certificate2 CreateCertificate()
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=proactor-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        // Through PKCS#12: SslStream on Windows refuses a certificate whose key is ephemeral.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }
}
