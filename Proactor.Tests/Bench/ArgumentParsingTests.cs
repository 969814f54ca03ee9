using System;
using System.Net;
using NUnit.Framework;
using Proactor.Bench.Cli;
using Proactor.Bench.Os;
using Proactor.Bench.Servers;

namespace Proactor.Tests.Bench;

/// <summary>The runner's command lines: what parses, and the one-line errors for what does not.</summary>
[TestFixture]
public sealed class ArgumentParsingTests
{
    [Test]
    public void Compare_defaults_to_the_default_profile()
    {
        CompareOptions o = CompareOptions.Parse([]);
        Assert.Multiple(() =>
        {
            Assert.That(o.Profile, Is.EqualTo(RunProfile.Default));
            Assert.That(o.Servers, Is.Null);
            Assert.That(o.Duration, Is.Null);
            Assert.That(o.HasCustomWorkload, Is.False);
            Assert.That(o.OutputRoot, Is.EqualTo("results"));
            Assert.That(o.Pin, Is.True);
        });
    }

    [Test]
    public void Compare_reads_every_option()
    {
        CompareOptions o = CompareOptions.Parse([
            "--quick", "--servers", "epoll-et, sockets", "--workloads=pingpong-1", "--duration", "500ms", "--warmup", "0.2s",
            "--connections", "32", "--size", "4k", "--in-flight", "8", "--idle", "0,1000", "--out", "/tmp/x", "--no-pin",
            "--external", "go=./echo -port {port}",
        ]);
        Assert.Multiple(() =>
        {
            Assert.That(o.Profile, Is.EqualTo(RunProfile.Quick));
            Assert.That(o.Servers, Is.EqualTo(new[] { "epoll-et", "sockets" }));
            Assert.That(o.Workloads, Is.EqualTo(new[] { "pingpong-1" }));
            Assert.That(o.Duration, Is.EqualTo(TimeSpan.FromMilliseconds(500)));
            Assert.That(o.Warmup, Is.EqualTo(TimeSpan.FromSeconds(0.2)));
            Assert.That(o.Connections, Is.EqualTo(32));
            Assert.That(o.MessageSize, Is.EqualTo(4096));
            Assert.That(o.InFlight, Is.EqualTo(8));
            Assert.That(o.IdleCounts, Is.EqualTo(new[] { 0, 1000 }));
            Assert.That(o.OutputRoot, Is.EqualTo("/tmp/x"));
            Assert.That(o.Pin, Is.False);
            Assert.That(o.HasCustomWorkload, Is.True);
            Assert.That(o.Externals, Has.Count.EqualTo(1));
            Assert.That(o.Externals[0].Name, Is.EqualTo("go"));
            Assert.That(o.Externals[0].Kind, Is.EqualTo(ServerKind.External));
            Assert.That(ExternalServer.WithPort(o.Externals[0].Command!, 5123), Is.EqualTo("./echo -port 5123"));
        });
    }

    [Test]
    public void An_external_command_without_placeholder_gets_the_port_appended() =>
        Assert.That(ExternalServer.WithPort("./echo-server", 7000), Is.EqualTo("./echo-server 7000"));

    [TestCase(new[] { "--quick", "--full" }, "choose one of --quick and --full")]
    [TestCase(new[] { "--bogus" }, "Unknown option 'bogus'")]
    [TestCase(new[] { "stray" }, "'stray'")]
    [TestCase(new[] { "--connections", "many" }, "'--connections' needs a whole number")]
    [TestCase(new[] { "--connections" }, "'--connections' needs a value")]
    [TestCase(new[] { "--size", "12q" }, "'--size' needs a size")]
    [TestCase(new[] { "--duration", "-1" }, "'--duration' needs a duration")]
    [TestCase(new[] { "--idle", "0,lots" }, "--idle needs counts")]
    [TestCase(new[] { "--external", "no-equals-sign" }, "--external needs NAME=COMMAND")]
    [TestCase(new[] { "--external", "a=x", "--external", "A=y" }, "two --external servers are named")]
    [TestCase(new[] { "--quick=yes" }, "Flags cannot be assigned a value")]
    [TestCase(new[] { "--rounds", "0" }, "'--rounds' needs a whole number from 1 to 100, not '0'")]
    [TestCase(new[] { "--servers" }, "option '--servers' needs a value")]
    [TestCase(new[] { "--out", "--quick" }, "option '--out' needs a value")]
    [TestCase(new[] { "--loadgen-backend", "nosuch" }, "unknown backend 'nosuch'")]
    public void Bad_compare_arguments_say_what_is_wrong(string[] args, string expected)
    {
        UsageException e = Assert.Throws<UsageException>(() => CompareOptions.Parse(args))!;
        Assert.That(e.Message, Does.Contain(expected));
        Assert.That(e.Message, Does.Not.Contain(Environment.NewLine), "one line");
    }

    [Test]
    public void Serve_reads_backend_dispatch_port_and_address()
    {
        ServeOptions o = ServeOptions.Parse(["--backend", "epoll-lt", "--dispatch", "inline", "--port", "0", "--address", "::1", "--loops", "2", "--distribution", "reuse-port"]);
        Assert.Multiple(() =>
        {
            Assert.That(o.Backend, Is.EqualTo(BackendKind.Epoll));
            Assert.That(o.LevelTriggered, Is.True);
            Assert.That(o.Dispatch, Is.EqualTo(CompletionDispatch.Inline));
            Assert.That(o.Port, Is.Zero);
            Assert.That(o.Address, Is.EqualTo(IPAddress.IPv6Loopback));
            Assert.That(o.Loops, Is.EqualTo(2));
            Assert.That(o.Distribution, Is.EqualTo(AcceptDistribution.ReusePort));
            Assert.That(o.Server, Is.EqualTo(ServerKind.Proactor));
        });
        Assert.That(ServeOptions.Parse([]).Backend, Is.EqualTo(BackendKind.Default));
        Assert.That(ServeOptions.Parse([]).SqeOnly, Is.False);
        Assert.That(ServeOptions.Parse(["--backend", "io_uring", "--sqe-only"]).SqeOnly, Is.True);
    }

    [Test]
    public void Serve_reads_a_blocking_handler_and_runs_none_without_one()
    {
        ServeOptions o = ServeOptions.Parse(["--block-every", "1000", "--block-ms", "10", "--server", "sockets"]);
        Assert.That((o.BlockEvery, o.BlockMilliseconds), Is.EqualTo((1000, 10)));
        Assert.That(o.Blocking?.ToString(), Is.EqualTo("a handler blocks 10 ms every 1000 messages"));
        Assert.That(ServeOptions.Parse(["--dispatch", "inline", "--block-every", "1", "--block-ms", "1"]).Blocking, Is.Not.Null);
        Assert.That(ServeOptions.Parse([]).Blocking, Is.Null);
    }

    [TestCase("io_uring", BackendKind.IoUring)]
    [TestCase("IoUring", BackendKind.IoUring)]
    [TestCase("EPOLL", BackendKind.Epoll)]
    [TestCase("select", BackendKind.Select)]
    [TestCase("iocp", BackendKind.Iocp)]
    public void Backend_names_are_forgiving(string text, BackendKind expected) =>
        Assert.That(BackendNames.ParseBackend(text).Backend, Is.EqualTo(expected));

    [TestCase(new[] { "--backend", "kqueue" }, "unknown backend 'kqueue'")]
    [TestCase(new[] { "--port", "70000" }, "'--port' needs a whole number from 0 to 65535")]
    [TestCase(new[] { "--address", "localhost-ish" }, "is not an IP address")]
    [TestCase(new[] { "--dispatch", "fast" }, "unknown completion dispatch 'fast'")]
    [TestCase(new[] { "--backend", "poll", "--level-triggered" }, "--level-triggered applies to the epoll backend")]
    [TestCase(new[] { "--server", "sockets", "--backend", "epoll" }, "--backend applies to the Proactor server")]
    [TestCase(new[] { "--backend", "epoll", "--sqe-only" }, "--sqe-only applies to the io_uring backend, not epoll")]
    [TestCase(new[] { "--block-every", "100" }, "--block-every and --block-ms go together")]
    [TestCase(new[] { "--block-ms", "5" }, "--block-every and --block-ms go together")]
    [TestCase(new[] { "--block-every", "0", "--block-ms", "5" }, "'--block-every' needs a whole number from 1 to")]
    [TestCase(new[] { "--block-every", "10", "--block-ms", "20000" }, "'--block-ms' needs a whole number from 1 to 10000")]
    [TestCase(new[] { "--server", "reactor", "--block-every", "10", "--block-ms", "5" }, "applies to --server proactor and --server sockets, not reactor")]
    [TestCase(new[] { "--dispatch", "queue", "--block-every", "10", "--block-ms", "5" }, "not the completion-queue server")]
    public void Bad_serve_arguments_say_what_is_wrong(string[] args, string expected)
    {
        UsageException e = Assert.Throws<UsageException>(() => ServeOptions.Parse(args))!;
        Assert.That(e.Message, Does.Contain(expected));
    }

    [Test]
    public void Proc_stat_parsing_counts_fields_after_the_command_name()
    {
        // A command name with spaces and parentheses must not shift the fields.
        const string Stat = "4242 (my (odd) server) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 8 0 100 0 0";
        CpuTimes? times = ProcessCpuTime.ParseProcStat(Stat, 100);
        Assert.That(times?.User, Is.EqualTo(TimeSpan.FromSeconds(2.5)));
        Assert.That(times?.System, Is.EqualTo(TimeSpan.FromSeconds(0.5)));
        Assert.That(times?.Total, Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(ProcessCpuTime.ParseProcStat("garbage", 100), Is.Null);
    }

    [TestCase("64", 64)]
    [TestCase("4k", 4096)]
    [TestCase("4KiB", 4096)]
    [TestCase("1m", 1048576)]
    public void Sizes_parse_with_units(string text, long expected)
    {
        Assert.That(Values.TryParseSize(text, out long bytes), Is.True);
        Assert.That(bytes, Is.EqualTo(expected));
    }
}
