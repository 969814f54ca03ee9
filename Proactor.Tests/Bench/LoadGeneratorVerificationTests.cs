using System;
using System.Linq;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Bench.Load;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Bench;

/// <summary>
/// The load generator checks every echoed byte: a correct server gives figures and no error; a
/// server that corrupts one byte or drops one message is reported, in every load mode, with the
/// clients on io_uring (the default where the kernel allows it) and on epoll.
/// </summary>
[TestFixture("io_uring")]
[TestFixture("epoll-et")]
[Platform("Linux")]
[Category("Linux")]
public sealed class LoadGeneratorVerificationTests(string clientBackend)
{
    /// <summary>A short run with no warm-up (also for <see cref="LoadGeneratorAllocationTests"/>).</summary>
    internal static LoadRequest Request(int port, LoadMode mode, int size, int inFlight = 1, int connections = 2, double seconds = 0.3) => new()
    {
        Port = port,
        Mode = mode,
        Connections = connections,
        MessageSize = size,
        InFlight = inFlight,
        WarmupSeconds = 0,
        DurationSeconds = seconds,
        DrainSeconds = 0.5,
    };

    [TestCase("PingPong", 64, 1)]
    [TestCase("PingPong", 64, 4)]
    [TestCase("Stream", 8192, 4)]
    [TestCase("Churn", 64, 1)]
    public async Task A_correct_echo_gives_figures_and_no_error(string modeName, int size, int inFlight)
    {
        LoadMode mode = Enum.Parse<LoadMode>(modeName);
        using var server = new FaultyEchoServer(EchoFault.None, size);
        LoadResult result = await LoadGenerator.RunAsync(Request(server.Port, mode, size, inFlight), clientBackend).Timeout();

        Assert.That(result.Fatal, Is.Null);
        Assert.That(result.Errors, Is.Zero, string.Join("; ", result.ErrorSamples));
        Assert.That(result.Messages, Is.GreaterThan(0));

        // More messages than the window holds: every echoed message gave its credit back to the
        // sender (a lost credit stalls the pipelined modes after the first window).
        Assert.That(result.Messages, Is.GreaterThan(inFlight), "the sender stopped after its first window");
        Assert.That(result.MessagesPerSecond, Is.GreaterThan(0));
        Assert.That(result.Bytes, Is.EqualTo(result.Messages * size));
        Assert.That(result.P50Us, Is.GreaterThan(0));
        Assert.That(result.P999Us, Is.GreaterThanOrEqualTo(result.P50Us));
    }

    [TestCase("PingPong", 64, 1)]
    [TestCase("PingPong", 64, 4)]
    [TestCase("Stream", 8192, 4)]
    public async Task One_corrupted_byte_is_reported(string modeName, int size, int inFlight)
    {
        LoadMode mode = Enum.Parse<LoadMode>(modeName);
        using var server = new FaultyEchoServer(EchoFault.CorruptOneByte, size, faultMessage: 5);
        LoadResult result = await LoadGenerator.RunAsync(Request(server.Port, mode, size, inFlight), clientBackend).Timeout();

        Assert.That(result.Fatal, Is.Null);
        Assert.That(result.Errors, Is.GreaterThanOrEqualTo(1));
        Assert.That(result.ErrorSamples.First(), Does.Contain("message 5").And.Contain($"byte {size / 2}").And.Contain("came back as"));
    }

    [Test]
    public async Task A_dropped_message_with_one_in_flight_is_reported_as_lost()
    {
        using var server = new FaultyEchoServer(EchoFault.DropOneMessage, 64, faultMessage: 5);
        LoadResult result = await LoadGenerator.RunAsync(Request(server.Port, LoadMode.PingPong, 64), clientBackend).Timeout();

        // The connection waits for an echo that never comes; the drain time ends the wait.
        Assert.That(result.Errors, Is.EqualTo(1), string.Join("; ", result.ErrorSamples));
        Assert.That(result.ErrorSamples.Single(), Does.Contain("message 5").And.Contain("lost"));
        Assert.That(result.Messages, Is.GreaterThan(0), "the healthy connection still measured");
    }

    [TestCase("PingPong", 64, 4)]
    [TestCase("Stream", 8192, 4)]
    public async Task A_dropped_message_among_several_in_flight_is_reported(string modeName, int size, int inFlight)
    {
        LoadMode mode = Enum.Parse<LoadMode>(modeName);
        using var server = new FaultyEchoServer(EchoFault.DropOneMessage, size, faultMessage: 5);
        LoadResult result = await LoadGenerator.RunAsync(Request(server.Port, mode, size, inFlight), clientBackend).Timeout();

        // The next message's bytes arrive where message 5's were expected.
        Assert.That(result.Errors, Is.GreaterThanOrEqualTo(1));
        Assert.That(result.ErrorSamples.First(), Does.Contain("message 5"));
    }

    [Test]
    public async Task Nothing_listening_is_a_fatal_result_not_an_exception()
    {
        int port = Net.ClosedPort().Port;
        LoadResult result = await LoadGenerator.RunAsync(Request(port, LoadMode.PingPong, 64), clientBackend).Timeout();

        Assert.That(result.Fatal, Does.Contain("ConnectionRefused"));
        Assert.That(result.Messages, Is.Zero);
    }
}
