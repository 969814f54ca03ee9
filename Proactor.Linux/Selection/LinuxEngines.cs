using System;
using System.Runtime.Versioning;

namespace Proactor.Linux;

/// <summary>Constructs the Linux backends.</summary>
[SupportedOSPlatform("linux")]
internal static class LinuxEngines
{
    public static ProactorEngine Create(BackendKind backend, EngineOptions options)
    {
        int max = options.MaxEventsPerWait;
        switch (backend)
        {
            case BackendKind.Epoll when options.EpollLevelTriggered:
                return new EmulatedEngine<EpollLevelDemultiplexer>(options, backend, new EpollLevelDemultiplexer(max));
            case BackendKind.Epoll:
                return new EmulatedEngine<EpollDemultiplexer>(options, backend, new EpollDemultiplexer(max));
            case BackendKind.Poll:
                return new EmulatedEngine<PollDemultiplexer>(options, backend, new PollDemultiplexer());
            case BackendKind.Select:
                return new EmulatedEngine<SelectDemultiplexer>(options, backend, new SelectDemultiplexer());
            case BackendKind.IoUring:
                return IoUringEngine.CreateOrThrow(options);
            case BackendKind.Default:
                return IoUringEngine.CreateOrFallBack(options, static o => Create(BackendKind.Epoll, o));
            default:
                throw new NotSupportedException($"The {backend} backend is not available in this build.");
        }
    }
}
