using System;
using Proactor.Linux;
using Proactor.Windows;

namespace Proactor;

/// <summary>
/// The one way to get an engine: <c>EngineFactory.Create()</c> picks the right backend for the
/// running OS; <see cref="EngineOptions.Backend"/> names one explicitly. No reflection: every
/// backend is a direct constructor call behind an OS check, so AOT and trimming keep it.
/// </summary>
public static class EngineFactory
{
    /// <summary>Creates and starts an engine.</summary>
    /// <exception cref="PlatformNotSupportedException">The backend does not exist on this OS.</exception>
    /// <exception cref="NotSupportedException">The backend cannot run here; the message says why.</exception>
    public static ProactorEngine Create(EngineOptions? options = null)
    {
        options ??= EngineOptions.Default;
        BackendKind backend = options.Backend;
        if (backend == BackendKind.Managed)
        {
            return new Proactor.Managed.ManagedEngine(options);
        }

        if (backend == BackendKind.Default)
        {
            if (!OperatingSystem.IsWindows() && !OperatingSystem.IsLinux())
            {
                // macOS, the BSDs…: no native backend, so the managed one, saying why.
                return Proactor.Managed.ManagedEngine.CreateAsFallback(options, System.Runtime.InteropServices.RuntimeInformation.OSDescription);
            }

            // On Linux, Default stays Default: LinuxEngines tries io_uring and falls back to epoll.
            backend = OperatingSystem.IsWindows() ? BackendKind.Iocp : BackendKind.Default;
        }

        if (backend == BackendKind.Iocp)
        {
            if (!OperatingSystem.IsWindows())
            {
                throw Unsupported(backend, "Windows");
            }

            return IocpEngineFactory.Create(options);
        }

        if (!OperatingSystem.IsLinux())
        {
            throw Unsupported(backend, "Linux");
        }

        return LinuxEngines.Create(backend, options);
    }

    /// <summary>
    /// Creates a group of <paramref name="loops"/> engines with the same options (main + sub loops):
    /// a group listener spreads connections over them, one loop per core by default.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="loops"/> is less than 1.</exception>
    public static ProactorEngineGroup CreateGroup(int loops = 0, EngineOptions? options = null)
    {
        if (loops == 0)
        {
            loops = Environment.ProcessorCount;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(loops, 1);
        var engines = new System.Collections.Generic.List<ProactorEngine>(loops);
        try
        {
            for (int i = 0; i < loops; i++)
            {
                engines.Add(Create(options is null ? null : options with
                {
                    ThreadName = options.ThreadName is null ? null : $"{options.ThreadName}-{i}",
                    InstanceName = options.InstanceName is null ? null : $"{options.InstanceName}-{i}",
                }));
            }
        }
        catch
        {
            foreach (ProactorEngine engine in engines)
            {
                engine.Dispose();
            }

            throw;
        }

        return new ProactorEngineGroup(engines);
    }

    private static PlatformNotSupportedException Unsupported(BackendKind backend, string os) =>
        new($"The {backend} backend runs only on {os}; this is {System.Runtime.InteropServices.RuntimeInformation.OSDescription}. " +
            "Use BackendKind.Default to pick the right one.");
}
