using System;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>
/// poll(2), level-triggered: a socket is in the descriptor set only for the directions that have
/// operations queued, so an idle writable socket does not wake the loop. The kernel keeps no
/// interest list; <see cref="PollingTable"/> is it, re-read before every wait.
/// </summary>
[SupportedOSPlatform("linux")]
internal readonly struct PollDemultiplexer : IDemultiplexer
{
    private readonly PollCore _core;

    public PollDemultiplexer() => _core = new PollCore();

    public static bool TracksInterest => true;

    public string Name => "poll";

    public void Register(int fd, ulong key, Interest interest) => _core.Table.Register(fd, key, interest);

    public void AttachWaker(EventFdWaker waker) => _core.Table.AttachWaker(waker);

    public void SetInterest(int fd, ulong key, Interest previous, Interest interest) => _core.Table.SetInterest(fd, interest);

    public void Unregister(int fd, ulong key) => _core.Table.Unregister(fd);

    public int Wait(Span<ReadyEvent> events, int timeoutMilliseconds) => _core.Wait(events, timeoutMilliseconds);

    public void Dispose() => _core?.Dispose();
}
