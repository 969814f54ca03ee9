using System;
using System.IO;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Linux;

/// <summary>
/// A user gets Proactor as packages: this packs the libraries into a local feed, then builds
/// <c>eng/consumer</c> (one <c>PackageReference</c> to <c>Proactor</c>, copied out of the repository
/// so none of its build settings help) from that feed and runs it, natively on Linux and as a
/// trimmed self-contained win-x64 program under Wine. Each run uses a version of its own, so the
/// NuGet cache can never hand back a package of an earlier run.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[NonParallelizable] // builds with the SDK: takes both cores for a while
public sealed class PackageConsumerTests
{
    private const string Message = "echoed 'hello from a package consumer'";
    private string _work = "";
    private string _version = "";
    private string _app = "";

    [OneTimeSetUp]
    public async Task PackTheLibrariesIntoALocalFeed()
    {
        string root = ExternalTool.RepositoryRoot();
        _work = Directory.CreateTempSubdirectory("proactor-consumer-").FullName;
        _version = $"0.0.0-consumer.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        string feed = Path.Combine(_work, "feed");

        // --no-build: the libraries this test program was built with are the ones packed (the
        // build that made this program built them), which keeps the check well under a minute.
        (int code, string log) = await ExternalTool.RunAsync(
            "dotnet",
            ["pack", Path.Combine(root, "Proactor.Packages.slnf"), "-c", ExternalTool.Configuration, "--no-build",
             "-o", feed, $"-p:Version={_version}", "-nologo", "-v", "quiet"]);
        Assert.That(code, Is.Zero, log);
        foreach (string id in new[] { "Proactor", "Proactor.Core", "Proactor.Linux", "Proactor.Windows" })
        {
            Assert.That(File.Exists(Path.Combine(feed, $"{id}.{_version}.nupkg")), Is.True, $"{id} was not packed: {log}");
            Assert.That(File.Exists(Path.Combine(feed, $"{id}.{_version}.snupkg")), Is.True, $"{id} has no symbols package: {log}");
        }

        _app = Path.Combine(_work, "app");
        Directory.CreateDirectory(_app);
        foreach (string file in Directory.GetFiles(Path.Combine(root, "eng", "consumer")))
        {
            File.Copy(file, Path.Combine(_app, Path.GetFileName(file)));
        }

        // The local feed beside the user's own sources (the runtime packs of a win-x64 publish come from those).
        File.WriteAllText(Path.Combine(_app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="proactor-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
    }

    [OneTimeTearDown]
    public void RemoveTheFeedAndTheCachedPackages()
    {
        if (_work.Length > 0)
        {
            Directory.Delete(_work, recursive: true);
        }

        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                       ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string id in new[] { "proactor", "proactor.core", "proactor.linux", "proactor.windows" })
        {
            string cached = Path.Combine(cache, id, _version);
            if (_version.Length > 0 && Directory.Exists(cached))
            {
                Directory.Delete(cached, recursive: true);
            }
        }
    }

    [Test]
    public async Task A_consumer_of_the_Proactor_package_builds_from_a_local_feed_and_echoes_on_Linux()
    {
        string output = Path.Combine(_work, "linux");
        (int buildCode, string buildLog) = await ExternalTool.RunAsync(
            "dotnet", ["build", _app, "-c", "Release", $"-p:ProactorVersion={_version}", "-o", output, "-nologo", "-v", "quiet"]);
        Assert.That(buildCode, Is.Zero, buildLog);

        (int runCode, string runLog) = await ExternalTool.RunAsync("dotnet", [Path.Combine(output, "Consumer.dll")], timeout: TimeSpan.FromMinutes(1));
        TestContext.Out.WriteLine(runLog);
        Assert.That(runCode, Is.Zero, runLog);
        Assert.That(runLog, Does.Contain(Message));
        Assert.That(runLog, Does.Match(@"backend (IoUring|Epoll) "), "the default backend on Linux");
    }

    [Test]
    public async Task A_trimmed_win_x64_consumer_ships_no_Linux_assembly_and_echoes_on_IOCP_under_Wine()
    {
        if (!ExternalTool.WineInstalled())
        {
            Assert.Ignore("Wine is not installed (apt-get install -y wine64; .ci/run does this).");
        }

        string output = Path.Combine(_work, "win");
        (int publishCode, string publishLog) = await ExternalTool.RunAsync(
            "dotnet",
            ["publish", _app, "-c", "Release", "-r", "win-x64", "--self-contained", "-p:PublishTrimmed=true",
             $"-p:ProactorVersion={_version}", "-o", output, "-nologo", "-v", "quiet"]);
        Assert.That(publishCode, Is.Zero, publishLog);
        Assert.That(publishLog, Does.Not.Contain("warning IL"), "trim warnings: " + publishLog);

        // EngineFactory reaches the Linux backends only behind OperatingSystem.IsLinux(), a constant
        // false in the Windows runtime: the trimmer drops that branch and with it the assembly.
        Assert.That(File.Exists(Path.Combine(output, "Proactor.Windows.dll")), Is.True, "the IOCP backend ships");
        Assert.That(File.Exists(Path.Combine(output, "Proactor.Linux.dll")), Is.False, "a trimmed Windows app ships no Linux assembly");

        (int runCode, string runLog) = await ExternalTool.RunAsync(
            "wine", [Path.Combine(output, "Consumer.exe")], output, ExternalTool.WineEnvironment(), TimeSpan.FromMinutes(3));
        TestContext.Out.WriteLine(runLog);
        Assert.That(runCode, Is.Zero, runLog);
        Assert.That(runLog, Does.Contain("backend Iocp (iocp)"));
        Assert.That(runLog, Does.Contain(Message));
        Assert.That(runLog, Does.Contain("assemblies Proactor,Proactor.Core,Proactor.Windows\n"), "no Linux assembly loaded");
    }
}
