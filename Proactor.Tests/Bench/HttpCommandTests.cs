using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using Proactor.Bench.Cli;
using Proactor.Bench.Compare;
using Proactor.Bench.Http;

namespace Proactor.Tests.Bench;

/// <summary>
/// <c>http</c> and <c>http-serve</c> on the runner's command line, and the http table built with
/// the runner's statistics (median (min–max), per-round ratios, the "≈" rule).
/// </summary>
[TestFixture]
public sealed class HttpCommandTests
{
    [Test]
    public void Http_defaults_to_three_rounds_every_server_and_workload()
    {
        HttpSettings s = BenchCli.Parse<HttpSettings>("http", []);
        Assert.Multiple(() =>
        {
            Assert.That(s.RoundsValue, Is.EqualTo(3));
            Assert.That(s.DurationValue, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(s.WarmupValue, Is.EqualTo(TimeSpan.FromSeconds(3)));
            Assert.That(s.SettleValue, Is.EqualTo(TimeSpan.FromSeconds(12)));
            Assert.That(s.ConnectionsValue, Is.EqualTo(64));
            Assert.That(s.PipelineValue, Is.EqualTo(16));
            Assert.That(s.ServersValue.Select(c => c.Name), Is.EqualTo(new[] { "sockets", "proactor", "proactor-threadpool", "proactor-inline", "proactor-epoll-inline" }));
            Assert.That(s.WorkloadsValue.Select(w => w.Name), Is.EqualTo(new[] { "plaintext", "pipelined", "json" }));
            Assert.That(s.NoPin, Is.False);
            Assert.That(s.Wrk, Is.Null);
        });
    }

    [Test]
    public void Http_reads_every_option()
    {
        HttpSettings s = BenchCli.Parse<HttpSettings>("http", [
            "--rounds", "5", "--duration", "2s", "--warmup", "500ms", "--settle", "0", "--connections", "256", "--pipeline", "8",
            "--servers", "proactor-inline, sockets", "--workloads", "json", "--wrk", "/opt/wrk", "--no-pin", "--out", "/tmp/h",
        ]);
        Assert.Multiple(() =>
        {
            Assert.That(s.RoundsValue, Is.EqualTo(5));
            Assert.That(s.DurationValue, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(s.WarmupValue, Is.EqualTo(TimeSpan.FromMilliseconds(500)));
            Assert.That(s.SettleValue, Is.EqualTo(TimeSpan.Zero));
            Assert.That(s.ConnectionsValue, Is.EqualTo(256));
            Assert.That(s.PipelineValue, Is.EqualTo(8));
            Assert.That(s.ServersValue.Select(c => c.Name), Is.EqualTo(new[] { "proactor-inline", "sockets" }));
            Assert.That(s.WorkloadsValue.Single(), Is.EqualTo(new HttpWorkload("json", "/json", false)));
            Assert.That(s.Wrk, Is.EqualTo("/opt/wrk"));
            Assert.That(s.NoPin, Is.True);
            Assert.That(s.Out, Is.EqualTo("/tmp/h"));
        });
    }

    [TestCase(new[] { "--servers", "nginx" }, "http: unknown server 'nginx'; servers: sockets, proactor")]
    [TestCase(new[] { "--workloads", "fortunes" }, "http: unknown workload 'fortunes'; workloads: plaintext, pipelined, json")]
    [TestCase(new[] { "--rounds", "0" }, "'--rounds' needs a whole number from 1 to 100, not '0'")]
    [TestCase(new[] { "--duration", "500ms" }, "'--duration' needs a duration from 1 s")]
    [TestCase(new[] { "--settle", "soon" }, "'--settle' needs a duration")]
    [TestCase(new[] { "--pipeline", "0" }, "'--pipeline' needs a whole number from 1 to 1024")]
    [TestCase(new[] { "--connections", "lots" }, "'--connections' needs a whole number")]
    [TestCase(new[] { "--servers" }, "http: option '--servers' needs a value")]
    [TestCase(new[] { "--bogus" }, "Unknown option 'bogus'")]
    public void Bad_http_arguments_say_what_is_wrong(string[] args, string expected)
    {
        UsageException e = Assert.Throws<UsageException>(() => BenchCli.Parse<HttpSettings>("http", args))!;
        Assert.That(e.Message, Does.Contain(expected));
        Assert.That(e.Message, Does.Not.Contain(Environment.NewLine), "one line");
    }

    [Test]
    public void Http_serve_reads_back_every_configuration_http_starts()
    {
        foreach (HttpServerConfig config in HttpServerConfig.Catalog)
        {
            HttpServerConfig withPort = config with { Port = 5123 };
            string[] args = withPort.ServeArguments().ToArray();
            Assert.That(args[0], Is.EqualTo("http-serve"));
            Assert.That(BenchCli.Parse<HttpServeSettings>("http-serve", args[1..]).ToConfig(), Is.EqualTo(withPort), config.Name);
        }
    }

    [TestCase(new[] { "--transport", "quic" }, "'--transport' is sockets or proactor, not 'quic'")]
    [TestCase(new[] { "--backend", "kqueue" }, "unknown backend 'kqueue'")]
    [TestCase(new[] { "--port", "70000" }, "'--port' needs a whole number from 0 to 65535")]
    [TestCase(new[] { "--application", "elsewhere" }, "'--application' is default, threadpool or inline, not 'elsewhere'")]
    public void Bad_http_serve_arguments_say_what_is_wrong(string[] args, string expected)
    {
        UsageException e = Assert.Throws<UsageException>(() => BenchCli.Parse<HttpServeSettings>("http-serve", args))!;
        Assert.That(e.Message, Does.Contain(expected));
    }

    [Test]
    public void Http_ratios_pair_each_round_with_the_sockets_round_and_straddling_ones_print_approximately()
    {
        // Sorted, both columns would pair 100/100, 200/200, 300/300: a flat 1.00×.
        var samples = new Dictionary<string, List<HttpSample>>
        {
            ["sockets"] = [Sample(0, 100, 10), Sample(1, 200, 10), Sample(2, 300, 10)],
            ["proactor"] = [Sample(0, 300, 5), Sample(1, 200, 6), Sample(2, 100, 7)],
        };

        List<HttpRow> rows = HttpReport.Rows(["sockets", "proactor", "proactor-inline"], samples);

        Assert.That(rows.Select(r => r.Server), Is.EqualTo(new[] { "sockets", "proactor" }), "a server without samples has no row");
        string[] proactor = rows[1].Cells();
        Assert.Multiple(() =>
        {
            Assert.That(proactor[1], Is.EqualTo("200 (100–300)"), "req/s: median (min–max)");
            Assert.That(proactor[2], Is.EqualTo("≈ (0.33–3.00)"), "per-round ratios 3.00, 1.00, 0.33 straddle 1");
            Assert.That(proactor[4], Is.EqualTo("6.00 (5.00–7.00)"), "CPU µs/req");
            Assert.That(proactor[5], Is.EqualTo("0.60× (0.50–0.70)"), "CPU ratio below 1 in every round");
            Assert.That(rows[0].Cells()[2], Is.EqualTo("1.00×"));
        });
    }

    [Test]
    public void Without_the_sockets_baseline_there_are_no_ratios()
    {
        var samples = new Dictionary<string, List<HttpSample>> { ["proactor"] = [Sample(0, 300, 5), Sample(1, 200, 6)] };
        HttpRow row = HttpReport.Rows(["proactor"], samples).Single();
        Assert.That((row.RatioRequestsPerSecond, row.RatioCpuPerRequest), Is.EqualTo(((Spread?)null, (Spread?)null)));
        Assert.That(HttpReport.Markdown([row]), Does.Contain("| proactor | 250 (200–300) | – |"));
    }

    [Test]
    public void A_per_round_ratio_needs_the_baselines_same_round_with_a_positive_figure()
    {
        var baseline = new Dictionary<int, double?> { [0] = 10, [1] = 0, [2] = null };
        Spread s = Ratios.PerRound([(0, 20), (1, 5), (2, 5), (3, 5), (4, null)], baseline)!;
        Assert.That((s.Count, s.Median), Is.EqualTo((1, 2.0)));
    }

    [Test]
    public void A_round_where_wrk_printed_no_percentile_has_no_p99_rather_than_zero()
    {
        // wrk prints "99%  0.00us" for some pipelined runs while their mean latency is 4 ms.
        var samples = new Dictionary<string, List<HttpSample>>
        {
            ["sockets"] = [Sample(0, 100, 10, p99: 0), Sample(1, 100, 10, p99: 3.5), Sample(2, 100, 10, p99: 0)],
            ["proactor"] = [Sample(0, 100, 10, p99: 0), Sample(1, 100, 10, p99: 0), Sample(2, 100, 10, p99: 0)],
        };

        List<HttpRow> rows = HttpReport.Rows(["sockets", "proactor"], samples);

        Assert.Multiple(() =>
        {
            Assert.That(rows[0].Cells()[3], Is.EqualTo("3.50"), "the one round with a percentile");
            Assert.That(rows[1].Cells()[3], Is.EqualTo("–"), "no round with a percentile");
        });
    }

    private static HttpSample Sample(int round, double rate, double cpu, double p99 = 1.5) =>
        new(round, new WrkResult((long)rate, 1, rate, p99, 0, 0), cpu);
}
