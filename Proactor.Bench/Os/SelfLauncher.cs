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

        return info;
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
