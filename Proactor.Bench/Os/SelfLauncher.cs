using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Reflection;

namespace Proactor.Bench.Os;

/// <summary>
/// Builds the command that starts this program again as a child (a server, the load generator):
/// the apphost or <c>dotnet Proactor.Bench.dll</c> when Proactor.Bench is the entry program, and
/// <c>dotnet exec</c> with the host program's runtime and dependency files when it is loaded by
/// another program (the tests).
/// </summary>
internal static class SelfLauncher
{
    public static ProcessStartInfo Create(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        string benchDll = typeof(SelfLauncher).Assembly.Location;
        Assembly? entry = Assembly.GetEntryAssembly();
        string? processPath = Environment.ProcessPath;
        bool hostIsDotnet = processPath is not null &&
            Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase);

        if (entry == typeof(SelfLauncher).Assembly)
        {
            if (hostIsDotnet || processPath is null)
            {
                info.FileName = processPath ?? "dotnet";
                info.ArgumentList.Add(benchDll);
            }
            else
            {
                info.FileName = processPath; // the apphost (Proactor.Bench, or Proactor.Bench.exe)
            }
        }
        else
        {
            info.FileName = hostIsDotnet ? processPath! : DotnetHost();
            if (entry is not null && !string.IsNullOrEmpty(entry.Location))
            {
                // Loaded by another program (the tests): borrow its runtime and dependency files,
                // which list ours. The copies of our own that the SDK puts beside a referencing
                // program do not list our project references.
                info.ArgumentList.Add("exec");
                info.ArgumentList.Add("--runtimeconfig");
                info.ArgumentList.Add(Path.ChangeExtension(entry.Location, ".runtimeconfig.json"));
                info.ArgumentList.Add("--depsfile");
                info.ArgumentList.Add(Path.ChangeExtension(entry.Location, ".deps.json"));
            }

            info.ArgumentList.Add(benchDll);
        }

        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        SteadyTiering(info);
        return info;
    }

    /// <summary>The runtime setting every measured child process gets (see <see cref="SteadyTiering"/>).</summary>
    public const string TieringDelayVariable = "DOTNET_TC_DelaySingleProcMultiplier";

    /// <summary>How the runners' reports name the setting: its value in the children.</summary>
    public static string TieringNote =>
        $"{TieringDelayVariable}={Environment.GetEnvironmentVariable(TieringDelayVariable) ?? "1"}";

    /// <summary>
    /// Pinned to one processor, the runtime waits ten times longer before it replaces a method's
    /// first, unoptimized code (its tiering delay restarts with every newly called method), so a
    /// server or load generator measured after a short warm-up still runs part of its code
    /// unoptimized: a Kestrel server needed 30 s or more of load to reach its steady speed, with
    /// the multiplier at 1 about 6 s. The children get 1, as on a machine with more processors,
    /// unless the caller set it: the steady code is the same, only the time to reach it changes.
    /// The variable means nothing to a program that is not .NET, so external servers get it too.
    /// </summary>
    public static void SteadyTiering(ProcessStartInfo info)
    {
        if (Environment.GetEnvironmentVariable(TieringDelayVariable) is null)
        {
            info.Environment[TieringDelayVariable] = "1";
        }
    }

    private static string DotnetHost()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv))
        {
            return fromEnv;
        }

        // The shared runtime lives in <root>/shared/Microsoft.NETCore.App/<version>/; the host in <root>.
        string runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location) ?? "";
        string candidate = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", "..", OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet"));
        return File.Exists(candidate) ? candidate : "dotnet";
    }
}
