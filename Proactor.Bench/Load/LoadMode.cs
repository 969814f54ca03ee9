namespace Proactor.Bench.Load;

/// <summary>How the load generator drives a server.</summary>
internal enum LoadMode
{
    /// <summary>Closed loop: each connection keeps <see cref="LoadRequest.InFlight"/> messages
    /// outstanding and sends the next one only when one has come back.</summary>
    PingPong,

    /// <summary>Large writes back to back (<see cref="LoadRequest.InFlight"/> chunks in flight),
    /// echoed and checked as they stream back: throughput in MB/s.</summary>
    Stream,

    /// <summary>Connect, one echo, orderly close, again: connections per second.</summary>
    Churn,

    /// <summary>UDP datagrams to the server's port, one in flight per socket, each echoed back.</summary>
    UdpPingPong,

    /// <summary>Ping-pong as <see cref="PingPong"/>, over Unix domain stream sockets: the server's
    /// Unix listener at <c>UnixEcho.PathFor(port)</c>.</summary>
    UnixPingPong,
}
