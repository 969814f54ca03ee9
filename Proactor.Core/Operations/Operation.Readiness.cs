using System;
using System.Threading.Tasks.Sources;

namespace Proactor;

internal abstract partial class Operation : IValueTaskSource<SocketEvents>
{
    /// <summary>For <see cref="OperationKind.Poll"/>: the events waited for. The result
    /// (<see cref="SocketEvents"/> that are ready) is carried in <see cref="BytesTransferred"/>.</summary>
    public SocketEvents RequestedEvents
    {
        get => _rare?.RequestedEvents ?? SocketEvents.None;
        set => Rare.RequestedEvents = value;
    }

    /// <summary>
    /// For <see cref="OperationKind.Poll"/>: true when the wait must not look at the socket at once,
    /// only after the demultiplexer's next report for its direction. A reactor re-arms this way
    /// after each dispatch, so an edge-triggered source tells a handler again only on a new edge,
    /// and a handler that did not drain is never re-run in a tight loop on the engine thread.
    /// Backends whose waits are level-triggered anyway (io_uring's one-shot poll) may ignore it.
    /// </summary>
    public bool WaitForNextReport
    {
        get => _rare?.WaitForNextReport ?? false;
        set => Rare.WaitForNextReport = value;
    }

    /// <summary>
    /// Set on a reactor registration's own operations: <see cref="Complete"/> calls it, on the
    /// engine's thread, instead of completing an awaiter or posting a completion. Such an
    /// operation is owned by its registration and never returns to the socket's pool.
    /// </summary>
    public Action<Operation>? ReadinessCallback
    {
        get => _rare?.ReadinessCallback;
        set => Rare.ReadinessCallback = value;
    }

    SocketEvents IValueTaskSource<SocketEvents>.GetResult(short token) =>
        GetResultAndRelease(token, static (_, events) => (SocketEvents)events);
}
