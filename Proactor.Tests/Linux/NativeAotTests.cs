using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Linux;

/// <summary>
/// The libraries claim to be AOT- and trim-compatible; their analyzers say so at build time. This
/// proves it in practice: <c>eng/aot-check</c> is published with NativeAOT (trimmed, warnings are
/// errors) and the native program echoes through every Linux backend.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[NonParallelizable] // a NativeAOT publish takes both cores for a while
public sealed class NativeAotTests
{
    [Test]
    public async Task The_libraries_publish_with_NativeAOT_without_warnings_and_echo_on_every_Linux_backend()
    {
        string root = ExternalTool.RepositoryRoot();
        string work = Directory.CreateTempSubdirectory("proactor-aot-").FullName;
        try
        {
            string output = Path.Combine(work, "out");
            (int publishCode, string publishLog) = await ExternalTool.RunAsync(
                "dotnet",
                ["publish", Path.Combine(root, "eng", "aot-check", "AotCheck.csproj"), "-c", "Release", "-r", "linux-x64",
                 "--artifacts-path", Path.Combine(work, "artifacts"), "-o", output, "-nologo"]);
            Assert.That(publishCode, Is.Zero, publishLog);
            Assert.That(publishLog, Does.Not.Contain("warning IL"), "trim/AOT warnings: " + publishLog);

            string program = Path.Combine(output, "AotCheck");
            Assert.That(File.Exists(program), Is.True, $"no native program at {program}");
            Assert.That(File.Exists(Path.Combine(output, "Proactor.Core.dll")), Is.False, "a NativeAOT publish carries no IL assemblies");

            (int runCode, string runLog) = await ExternalTool.RunAsync(program, []);
            TestContext.Out.WriteLine(runLog);
            Assert.That(runCode, Is.Zero, runLog);
            foreach (string backend in new[] { "Epoll epoll-et", "Poll poll", "Select select" })
            {
                Assert.That(runLog, Does.Contain($"ok {backend}: 'hello from native code'"));
            }

            string[] lines = runLog.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.That(lines.Count(l => l.StartsWith("ok ", StringComparison.Ordinal) || l.StartsWith("unavailable IoUring", StringComparison.Ordinal)), Is.EqualTo(5), runLog);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
