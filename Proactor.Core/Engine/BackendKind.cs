namespace Proactor;

/// <summary>Names every backend an engine can run on.</summary>
public enum BackendKind
{
    /// <summary>The best backend for the running OS: IOCP on Windows; io_uring on Linux where the
    /// kernel allows it, else edge-triggered epoll; <see cref="Managed"/> on any other OS (macOS,
    /// the BSDs…), with <see cref="ProactorEngine.FallbackReason"/> saying so.</summary>
    Default,

    /// <summary>Emulated proactor over epoll (edge-triggered unless <see cref="EngineOptions.EpollLevelTriggered"/>).</summary>
    Epoll,

    /// <summary>Emulated proactor over poll(2).</summary>
    Poll,

    /// <summary>Emulated proactor over select(2); descriptors must be below FD_SETSIZE (1024).</summary>
    Select,

    /// <summary>Native proactor over io_uring (Linux 5.11 or later). Where the kernel, a seccomp
    /// filter, the io_uring_disabled sysctl or the memlock limit refuses it, creating the engine
    /// throws a <see cref="System.NotSupportedException"/> that says why.</summary>
    IoUring,

    /// <summary>Native proactor over an I/O completion port (Windows).</summary>
    Iocp,

    /// <summary>Proactor over <see cref="System.Net.Sockets.Socket"/>'s own asynchronous calls, on
    /// any OS .NET runs on: the engine's loop thread still delivers every completion. The default
    /// where no native backend exists; selectable everywhere (it costs a thread hop per pending
    /// operation more than a native backend).</summary>
    Managed,
}
