using System;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
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
                o.ApplicationScheduler = config.Application switch
                {
                    "threadpool" => System.IO.Pipelines.PipeScheduler.ThreadPool,
                    "inline" => System.IO.Pipelines.PipeScheduler.Inline,
                    _ => null,
                };
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
            Console.Out.WriteLine(ListeningPrefix + new Uri(address).Port + " " + config.Name + Describe(app.Services));
        }

        Console.Out.Flush();

        // Until stdin closes (the runner ends us) or SIGTERM / Ctrl+C.
        // A "stats" line prints the process's thread-pool and allocation counters, so a script can
        // take their difference over a measured wrk run (work items and bytes per request).
        // Standard input is read on a thread of its own, never on the pool: the read blocks for the
        // whole run, and pinned to one processor the pool's goal is one worker, so a pool thread
        // parked in read(2) left every request waiting for the pool's starvation check (0.5 s
        // stalls, on the Sockets transport and Proactor alike).
        var stdinDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var commands = new Thread(() =>
        {
            try
            {
                ReadCommands(app.Services);
            }
            finally
            {
                stdinDone.TrySetResult();
            }
        })
        { IsBackground = true, Name = "http-serve-commands" };
        commands.Start();
        Task stdinClosed = stdinDone.Task;
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopping = new TaskCompletionSource();
        lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        await Task.WhenAny(stdinClosed, stopping.Task);
        await app.StopAsync();
        return 0;
    }

    private static void ReadCommands(IServiceProvider services)
    {
        while (Console.In.ReadLine() is { } line)
        {
            if (line.Trim() == "stats")
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"stats workitems={ThreadPool.CompletedWorkItemCount} threads={ThreadPool.ThreadCount} allocated={GC.GetTotalAllocatedBytes(precise: false)} gen0={GC.CollectionCount(0)}{ApplicationWork(services)}"));
                Console.Out.Flush();
            }
        }
    }

    /// <summary>For the "stats" line: resumptions of Kestrel the loops deferred to their iteration's
    /// end, and the pool work items that ran them.</summary>
    private static string ApplicationWork(IServiceProvider services)
    {
        if (services.GetService<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>() is not Proactor.AspNetCore.ProactorTransportFactory { EngineGroup: { } group })
        {
            return "";
        }

        long deferred = 0, items = 0;
        foreach (ProactorEngine engine in group.Engines)
        {
            deferred += engine.ApplicationWork.Deferred;
            items += engine.ApplicationWork.WorkItems;
        }

        return string.Create(CultureInfo.InvariantCulture, $" deferred={deferred} batches={items}");
    }

    /// <summary>What the transport runs on, for the listening line: " (1 engine(s): io_uring, Inline dispatch; 1 processor(s))".</summary>
    private static string Describe(IServiceProvider services)
    {
        if (services.GetService<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>() is not Proactor.AspNetCore.ProactorTransportFactory { EngineGroup: { } group })
        {
            return "";
        }

        ProactorEngine first = group.Engines[0];
        return string.Create(CultureInfo.InvariantCulture, $" ({group.Engines.Count} engine(s): {first.Name}, {first.Options.Dispatch} dispatch; {Environment.ProcessorCount} processor(s))");
    }
}

internal sealed class JsonMessage
{
    [JsonPropertyName("message")]
    public string Message { get; set; } = "";
}

[JsonSerializable(typeof(JsonMessage))]
internal sealed partial class HttpJsonContext : JsonSerializerContext;
