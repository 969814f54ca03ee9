using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;

namespace Proactor.Tests.Infrastructure
{
    /// <summary>
    /// Runs a piece of this test program in a child process, for what a test must not do to the
    /// runner's own process (lower its descriptor limit and fill its descriptor table). The child is
    /// this same program started with <c>DOTNET_STARTUP_HOOKS</c> naming this assembly: the runtime
    /// calls <see cref="global::StartupHook.Initialize"/> before the test platform's entry point
    /// sees any argument, and the hook runs the child named in <see cref="ModeVariable"/> and exits.
    /// So the child needs no project of its own and cannot disturb the NUnit runner's command line.
    /// </summary>
    internal static class ChildProcess
    {
        public const string ModeVariable = "PROACTOR_TEST_CHILD";

        public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string mode, TimeSpan timeout)
        {
            string testsDll = typeof(ChildProcess).Assembly.Location;
            string host = Environment.ProcessPath ?? "dotnet";
            var info = new ProcessStartInfo
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            {
                info.FileName = host;
                info.ArgumentList.Add("exec");
                info.ArgumentList.Add(testsDll);
            }
            else
            {
                info.FileName = host; // the apphost of this test program
            }

            // Should the hook ever not run, the test platform would start instead: make that harmless.
            info.ArgumentList.Add("--list-tests");
            string? otherHooks = Environment.GetEnvironmentVariable("DOTNET_STARTUP_HOOKS"); // a coverage tool's, say
            info.Environment["DOTNET_STARTUP_HOOKS"] = string.IsNullOrEmpty(otherHooks) ? testsDll : otherHooks + Path.PathSeparator + testsDll;
            info.Environment[ModeVariable] = mode;

            using Process process = Process.Start(info)!;
            process.StandardInput.Close();
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            try
            {
                await process.WaitForExitAsync().WaitAsync(timeout);
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }

            return (process.ExitCode, await stdout.WaitAsync(timeout), await stderr.WaitAsync(timeout));
        }
    }
}

/// <summary>The runtime's startup hook (its name and place are fixed by the runtime: no namespace).
/// Inert unless <see cref="Proactor.Tests.Infrastructure.ChildProcess.ModeVariable"/> is set.</summary>
#pragma warning disable CA1050 // the runtime looks the hook up by this exact global name
internal static class StartupHook
#pragma warning restore CA1050
{
    public static void Initialize()
    {
        string? mode = Environment.GetEnvironmentVariable(Proactor.Tests.Infrastructure.ChildProcess.ModeVariable);
        if (string.IsNullOrEmpty(mode))
        {
            return;
        }

        int exitCode;
        try
        {
            string[] words = mode.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            exitCode = words[0] switch
            {
                Proactor.Tests.Linux.AcceptUnderDescriptorExhaustionChild.Name when OperatingSystem.IsLinux() =>
                    Proactor.Tests.Linux.AcceptUnderDescriptorExhaustionChild.RunAsync(words[1..]).GetAwaiter().GetResult(),
                _ => Fail($"unknown child mode '{mode}'"),
            };
        }
        catch (Exception e)
        {
            exitCode = Fail(e.ToString());
        }

        Console.Out.Flush();
        Environment.Exit(exitCode);
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("child: " + message);
        return 2;
    }
}
