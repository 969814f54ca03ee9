using System.Net;
using System.Net.Sockets;

namespace Proactor;

/// <summary>
/// The contract every backend implements for one registered socket: start an operation, cancel
/// it, close the socket. Emulated backends perform the I/O themselves after readiness; native
/// backends hand the operation to the OS (an overlapped call, an SQE) and complete it from the
/// OS's completion (a port packet, a CQE).
/// </summary>
/// <remarks>
/// Ownership: after <see cref="Start"/> returns true the backend owns the operation (and its buffer)
/// until it calls <see cref="Operation.Complete"/>, exactly once. <see cref="Cancel"/> and
/// <see cref="Close"/> only request an end; the backend's completion decides.
/// </remarks>
internal abstract partial class EngineSocket
{
    protected EngineSocket(ProactorEngine engine, Socket socket)
    {
        Engine = engine;
        Socket = socket;
    }

    public ProactorEngine Engine { get; }

    /// <summary>The OS socket: the control plane (bind, listen, options, shutdown) goes through it.</summary>
    public Socket Socket { get; }

    /// <summary>Makes a new operation object of this backend's kind (pooled by the caller).</summary>
    public abstract Operation CreateOperation();

    /// <summary>
    /// True when a finished operation of this backend may serve any socket of the same engine: it
    /// keeps nothing of the socket it last ran on that a later start does not set again, and a late
    /// request for an earlier use (a cancel) is told apart by the backend. The socket then returns
    /// its idle operations to <see cref="ProactorEngine.IdleOperations"/> instead of keeping one per
    /// direction, so an idle connection holds only what is in flight.
    /// </summary>
    public virtual bool SharesOperations => false;

    /// <summary>
    /// Starts <paramref name="operation"/>. Returns false when it completed synchronously (its result
    /// fields are set and the backend no longer holds it; <see cref="Operation.Complete"/> is not
    /// called); true when it is pending and will be completed later through <see cref="Operation.Complete"/>.
    /// </summary>
    public abstract bool Start(Operation operation);

    /// <summary>Requests cancellation of a pending operation. Harmless when it already completed.</summary>
    public abstract void Cancel(Operation operation);

    /// <summary>True when the backend performs file sends (<see cref="Operation.SendFileHandle"/>) in
    /// the kernel; otherwise the socket sends files by reading them and sending the bytes.</summary>
    public virtual bool SupportsFileSend => false;

    /// <summary>False when the OS socket cannot connect again after a failed connect (Winsock after a
    /// failed ConnectEx): a connect to several addresses then gives each attempt a fresh OS socket.</summary>
    public virtual bool CanConnectAgainAfterFailedConnect => true;

    /// <summary>Test hook: the backend's file send behaves as if the kernel refused it (EINVAL), so the
    /// read+send fallback carries the bytes.</summary>
    internal bool SimulateFileSendUnsupported;

    /// <summary>Prepares a listening socket (called after the OS listen succeeded).</summary>
    public virtual void OnListening()
    {
    }

    /// <summary>
    /// Closes the socket: every pending operation completes exactly once with
    /// <see cref="SocketError.OperationAborted"/>, and the OS handle is released only when no
    /// operation can still touch it or its buffers.
    /// </summary>
    public abstract void Close();

    public abstract EndPoint? GetLocalEndPoint();

    public abstract EndPoint? GetRemoteEndPoint();
}
