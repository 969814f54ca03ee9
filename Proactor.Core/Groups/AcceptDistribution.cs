namespace Proactor;

/// <summary>How an engine group spreads incoming connections over its loops.</summary>
public enum AcceptDistribution
{
    /// <summary>One listener on the first loop; accepted connections go to each loop in turn.</summary>
    RoundRobin,

    /// <summary>One listener on the first loop; each accepted connection goes to the loop with the
    /// fewest open sockets.</summary>
    LeastLoaded,

    /// <summary>Each loop owns its own listener on the same port (SO_REUSEPORT, Linux only); the
    /// kernel spreads connections over them.</summary>
    ReusePort,
}
