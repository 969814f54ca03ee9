using System;

namespace Proactor.Linux;

/// <summary>Which directions an emulated socket currently waits for.</summary>
[Flags]
internal enum Interest
{
    None = 0,
    Read = 1,
    Write = 2,
}

/// <summary>What a demultiplexer reported for one registration.</summary>
[Flags]
internal enum Readiness
{
    None = 0,
    Read = 1,
    Write = 2,

    /// <summary>An error or hang-up: both directions must look (the next syscall reports it).</summary>
    ErrorOrHangup = 4,

    /// <summary>The peer ended its sending side (EPOLLRDHUP, POLLRDHUP), reported with <see cref="Read"/>
    /// by the sources that can tell. An edge-triggered source reports it once.</summary>
    PeerClosed = 8,
}

/// <summary>One readiness report: the registration's key and what became ready.</summary>
internal struct ReadyEvent
{
    public ulong Key;
    public Readiness Readiness;
}

/// <summary>
/// An OS readiness source, kept as small as mio's selectors: create, register, change interest,
/// deregister, wait. The emulated proactor above it (queues, try-then-wait, completions) exists once.
/// The engine is generic over a struct implementing this, so calls are direct, not virtual.
/// </summary>
/// <remarks>
/// <see cref="Register"/>, <see cref="SetInterest"/> and <see cref="Unregister"/> may be called from
/// any thread; <see cref="Wait"/> only from the engine's loop thread.
/// </remarks>
internal interface IDemultiplexer : IDisposable
{
    /// <summary>The key under which the engine's waker is reported.</summary>
    const ulong WakeKey = ulong.MaxValue;

    /// <summary>
    /// False for an edge-triggered source where a descriptor is registered once for both directions
    /// and never re-armed; true when interest must follow the queues (level-triggered sources would
    /// otherwise report an idle writable socket forever).
    /// </summary>
    static abstract bool TracksInterest { get; }

    /// <summary>A short name for traces and reports, e.g. <c>epoll-et</c>.</summary>
    string Name { get; }

    /// <summary>Registers <paramref name="fd"/> under <paramref name="key"/> with an initial interest
    /// (ignored by sources that do not track interest).</summary>
    void Register(int fd, ulong key, Interest interest);

    /// <summary>Registers the engine's waker under <see cref="WakeKey"/>, watched for reading for
    /// the engine's lifetime. A source that must interrupt its own wait when its set changes
    /// (poll, select) wakes through it.</summary>
    void AttachWaker(EventFdWaker waker);

    /// <summary>Changes the directions <paramref name="fd"/> is watched for, from
    /// <paramref name="previous"/> (as last set) to <paramref name="interest"/>.</summary>
    void SetInterest(int fd, ulong key, Interest previous, Interest interest);

    /// <summary>Stops watching <paramref name="fd"/>. Must be called before the descriptor closes.</summary>
    void Unregister(int fd, ulong key);

    /// <summary>Waits for readiness, at most <paramref name="timeoutMilliseconds"/> (-1: no limit).
    /// Returns the number of events written, 0 on timeout or interruption.</summary>
    int Wait(Span<ReadyEvent> events, int timeoutMilliseconds);
}
