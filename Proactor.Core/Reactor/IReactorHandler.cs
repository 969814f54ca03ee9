namespace Proactor;

/// <summary>
/// The Reactor's concrete event handler: the engine's loop calls <see cref="HandleEvents"/> on its
/// own thread when a socket registered with <see cref="ProactorSocket.RegisterHandler"/> is ready,
/// and the handler does its own non-blocking I/O (<see cref="ProactorSocket.TryReceive"/>,
/// <see cref="ProactorSocket.TrySend"/>).
/// </summary>
/// <remarks>
/// The call runs on the engine's loop thread, whatever <see cref="EngineOptions.Dispatch"/> says:
/// it must not block, and everything else on the engine waits while it runs. An exception thrown
/// out of it is a fault of the loop (reported, and the process fails), as for any code the loop runs.
/// </remarks>
public interface IReactorHandler
{
    /// <summary>Called on the engine's loop thread when <paramref name="socket"/> is ready.</summary>
    /// <param name="socket">The registered socket.</param>
    /// <param name="events">What is ready: <see cref="SocketEvents.Readable"/> and
    /// <see cref="SocketEvents.Writable"/> arrive in separate calls, each possibly with
    /// <see cref="SocketEvents.HangUp"/> or <see cref="SocketEvents.Error"/>.</param>
    void HandleEvents(ProactorSocket socket, SocketEvents events);
}
