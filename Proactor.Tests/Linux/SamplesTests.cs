using System;
using System.IO;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Linux;

/// <summary>
/// The samples under <c>samples/</c> are code a user copies: they are built here and each runs its
/// <c>--demo</c> for a moment (a server and its own client, then exit), and what it printed is
/// checked, so a sample that stops compiling or stops working fails the suite.
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[NonParallelizable] // builds with the SDK: takes both cores for a while
public sealed class SamplesTests
{
    private string _samples = "";

    [OneTimeSetUp]
    public async Task BuildTheSamples()
    {
        _samples = Path.Combine(ExternalTool.RepositoryRoot(), "samples");
        (int code, string log) = await ExternalTool.RunAsync(
            "dotnet", ["build", Path.Combine(_samples, "Samples.slnx"), "-c", ExternalTool.Configuration, "-nologo", "-v", "quiet"]);
        Assert.That(code, Is.Zero, log);
    }

    [TestCase("EchoServer", new[] { "echoed: ping 1\n", "echoed: ping 2\n", "echoed: ping 3\n" })]
    [TestCase("LineChat", new[] { "alice got: welcome alice\n", "bob got: welcome bob\n", "bob got: alice: hello bob\n", "alice got: bob: hi alice\n" })]
    [TestCase("HttpHello", new[] { "GET /hello -> 200 Hello, world!\nGET /hello -> 200 Hello, world!\n" })]
    [TestCase("CompletionQueueClient", new[] { "completion Connect token=connect bytes=0 error=Success\n", "completion Send token=send three bytes=5 error=Success\n", "echoed: onetwothree\n" })]
    [TestCase("TlsEcho", new[] { "server certificate pinned\n", "echoed: secret over proactor\n" })]
    public async Task A_sample_runs_its_demo_and_prints_what_it_did(string sample, string[] expected)
    {
        string program = Path.Combine(_samples, sample, "bin", ExternalTool.Configuration, "net10.0", sample + ".dll");
        (int code, string output) = await ExternalTool.RunAsync("dotnet", [program, "--demo"], timeout: TimeSpan.FromMinutes(1));
        TestContext.Out.WriteLine(output);
        Assert.That(code, Is.Zero, output);
        foreach (string line in expected)
        {
            Assert.That(output, Does.Contain(line));
        }
    }
}
