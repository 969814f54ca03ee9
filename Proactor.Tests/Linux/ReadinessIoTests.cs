using System.Runtime.Versioning;
using NUnit.Framework;
using Proactor.Linux;

namespace Proactor.Tests.Linux;

/// <summary>
/// How a poll result becomes <see cref="SocketEvents"/> (epoll's poll waits, poll, select and
/// io_uring's poll requests all go through it).
/// </summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[SupportedOSPlatform("linux")]
public sealed class ReadinessIoTests
{
    /// <summary>
    /// Found by the race run on poll: a socket torn down while a handler waited gave POLLERR (or
    /// POLLHUP) without POLLIN or POLLOUT, and the handler was called with "Error" alone, though
    /// <see cref="SocketEvents"/> promises Error and HangUp come with the direction waited for.
    /// </summary>
    [TestCase(Interop.Sys.POLLERR, SocketEvents.Readable, SocketEvents.Readable | SocketEvents.Error)]
    [TestCase(Interop.Sys.POLLHUP, SocketEvents.Writable, SocketEvents.Writable | SocketEvents.HangUp)]
    [TestCase(Interop.Sys.POLLERR | Interop.Sys.POLLHUP, SocketEvents.Readable | SocketEvents.Writable,
        SocketEvents.Readable | SocketEvents.Writable | SocketEvents.HangUp | SocketEvents.Error)]
    [TestCase(Interop.Sys.POLLOUT | Interop.Sys.POLLERR, SocketEvents.Readable | SocketEvents.Writable, SocketEvents.Readable | SocketEvents.Writable | SocketEvents.Error)]
    [TestCase(Interop.Sys.POLLIN, SocketEvents.Readable | SocketEvents.Writable, SocketEvents.Readable)]
    [TestCase(0, SocketEvents.Readable, SocketEvents.None)]
    public void Error_and_hang_up_come_with_the_directions_waited_for(int revents, SocketEvents waitedFor, SocketEvents expected) =>
        Assert.That(ReadinessIo.FromPollEvents(revents, waitedFor | SocketEvents.HangUp | SocketEvents.Error), Is.EqualTo(expected));
}
