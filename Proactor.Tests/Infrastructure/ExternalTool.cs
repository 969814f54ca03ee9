using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Tests.Infrastructure;

/// <summary>
/// Runs the SDK or a program the tests built (NativeAOT check, package consumer, samples) and
/// returns its exit code and output; the tests that build things out of the repository find it here.
/// </summary>
internal static class ExternalTool
{
    /// <summary>The repository's root: the nearest directory above the test program holding Proactor.sln.</summary>
    public static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Proactor.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Proactor.sln not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>The configuration this test program was built in, which its libraries were built in too.</summary>
    public static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    /// <summary>Whether <c>wine</c> is on the PATH.</summary>
    public static bool WineInstalled()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, "wine")))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The environment a Windows program needs under Wine, as eng/test.sh sets it.</summary>
    public static Dictionary<string, string> WineEnvironment() => new()
    {
        ["WINEDEBUG"] = "-all",
        ["WINEPREFIX"] = Environment.GetEnvironmentVariable("PROACTOR_WINEPREFIX")
                         ?? Environment.GetEnvironmentVariable("WINEPREFIX")
                         ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".proactor-wine"),
        // The runtime's W^X double mapping of JIT code intermittently crashes under Wine.
        ["DOTNET_EnableWriteXorExecute"] = "0",
    };

    /// <summary>Runs <paramref name="fileName"/> to its end (killed after <paramref name="timeout"/>, default 10 minutes).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        TimeSpan limit = timeout ?? TimeSpan.FromMinutes(10);
        using Process process = Process.Start(info)!;
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} ran for more than {limit}.");
        }

        return (process.ExitCode, (await stdout + await stderr).Replace("\r", "", StringComparison.Ordinal));
    }
}
