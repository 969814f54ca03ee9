using System;

namespace Proactor;

/// <summary>Readiness of a socket, as a Reactor reports it: what the next non-blocking call will
/// find, not what it will move (that is the Proactor's completion).</summary>
[Flags]
public enum SocketEvents
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>A receive (or an accept, on a listener) would not block: data, the peer's end of
    /// stream, or an error waits.</summary>
    Readable = 1,

    /// <summary>A send would not block: there is room in the socket's send buffer (or an error waits).</summary>
    Writable = 2,

    /// <summary>The peer closed its side or the connection ended (<c>POLLRDHUP</c>/<c>POLLHUP</c>).
    /// Always reported with the direction it was waited for; it cannot be waited for alone.</summary>
    HangUp = 4,

    /// <summary>An error is pending on the socket (<c>POLLERR</c>); the next call reports it.
    /// Always reported with the direction it was waited for; it cannot be waited for alone.</summary>
    Error = 8,
}
