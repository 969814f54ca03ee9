using System;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Proactor.AspNetCore;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Puts Kestrel on Proactor: <c>builder.WebHost.UseProactor();</c></summary>
public static class ProactorWebHostBuilderExtensions
{
    /// <summary>Makes Kestrel accept and serve its IP endpoints on Proactor engines, with the default options.</summary>
    /// <param name="hostBuilder">The web host builder (<c>builder.WebHost</c>).</param>
    /// <returns><paramref name="hostBuilder"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="hostBuilder"/> is null.</exception>
    public static IWebHostBuilder UseProactor(this IWebHostBuilder hostBuilder) =>
        UseProactor(hostBuilder, static _ => { });

    /// <summary>Makes Kestrel accept and serve its IP endpoints on Proactor engines configured by
    /// <paramref name="configureOptions"/> (backend, dispatch, number of loops, buffer limits).</summary>
    /// <param name="hostBuilder">The web host builder (<c>builder.WebHost</c>).</param>
    /// <param name="configureOptions">Sets the transport's options.</param>
    /// <returns><paramref name="hostBuilder"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IWebHostBuilder UseProactor(this IWebHostBuilder hostBuilder, Action<ProactorTransportOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(hostBuilder);
        ArgumentNullException.ThrowIfNull(configureOptions);
        return hostBuilder.ConfigureServices(services =>
        {
            // Kestrel tries the most recently registered factory first, so this one wins over the
            // Sockets transport the default builder registered; CanBind leaves it what we do not bind.
            services.AddSingleton<IConnectionListenerFactory, ProactorTransportFactory>();
            services.Configure(configureOptions);
        });
    }
}
