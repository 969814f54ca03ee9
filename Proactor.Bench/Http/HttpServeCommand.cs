using System;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Proactor.Bench.Http;

/// <summary>
/// <c>http-serve</c>: one Kestrel server with TechEmpower's plaintext and JSON endpoints, on the
/// Sockets transport or on Proactor; the <c>http</c> runner starts it as a pinned child process.
/// </summary>
internal static class HttpServeCommand
{
    public const string ListeningPrefix = "http listening on ";

    private static readonly byte[] s_plaintext = Encoding.ASCII.GetBytes("Hello, World!");

    public static async Task<int> RunAsync(HttpServerConfig config)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (config.Transport == "proactor")
        {
            builder.WebHost.UseProactor(o =>
            {
                o.Backend = config.Backend;
                if (config.Dispatch is { } dispatch)
                {
                    o.Dispatch = dispatch;
                }

                o.Loops = config.Loops;
            });
        }

        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, config.Port));
        await using WebApplication app = builder.Build();

        // As TechEmpower's ASP.NET Core "platform" entries: middleware, no routing, fixed bodies.
        app.Run(context =>
        {
            HttpResponse response = context.Response;
            if (context.Request.Path.Value == "/plaintext")
            {
                response.StatusCode = 200;
                response.ContentType = "text/plain";
                response.ContentLength = s_plaintext.Length;
                return response.Body.WriteAsync(s_plaintext).AsTask();
            }

            if (context.Request.Path.Value == "/json")
            {
                response.StatusCode = 200;
                response.ContentType = "application/json";
                byte[] json = JsonSerializer.SerializeToUtf8Bytes(new JsonMessage { Message = "Hello, World!" }, HttpJsonContext.Default.JsonMessage);
                response.ContentLength = json.Length;
                return response.Body.WriteAsync(json).AsTask();
            }

            response.StatusCode = 404;
            return Task.CompletedTask;
        });

        await app.StartAsync();
        foreach (string address in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses)
        {
            Console.Out.WriteLine(ListeningPrefix + new Uri(address).Port + " " + config.Name);
        }

        Console.Out.Flush();

        // Until stdin closes (the runner ends us) or SIGTERM / Ctrl+C.
        Task stdinClosed = Task.Run(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }
        });
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopping = new TaskCompletionSource();
        lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        await Task.WhenAny(stdinClosed, stopping.Task);
        await app.StopAsync();
        return 0;
    }
}

internal sealed class JsonMessage
{
    [JsonPropertyName("message")]
    public string Message { get; set; } = "";
}

[JsonSerializable(typeof(JsonMessage))]
internal sealed partial class HttpJsonContext : JsonSerializerContext;
