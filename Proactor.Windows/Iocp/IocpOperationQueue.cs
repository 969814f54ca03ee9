using System.Threading;

namespace Proactor.Windows;

/// <summary>
/// The operations of one socket in one direction, FIFO. Only the head is ever handed to the OS;
/// the rest wait here until it finishes.
/// </summary>
/// <remarks>
/// Why not let Windows queue several overlapped calls per direction: with skip-on-success, a
/// second receive that succeeds at once would be delivered before the first one's packet, and a
/// send continued after a partial completion could interleave with a later send. One call in
/// flight per direction keeps completions in submission order and partial sends contiguous.
/// The lock is held while the head is handed to the OS (a non-blocking call), which makes
/// "issue, or queue behind the one in flight" atomic against the completion thread.
/// </remarks>
internal sealed class IocpOperationQueue
{
    public readonly Lock Lock = new();

    private OperationFifo<IocpOperation> _fifo;

    /// <summary>The operation handed to the OS (pending); null when the direction is idle.</summary>
    public IocpOperation? Head => _fifo.Head;

    public void Append(IocpOperation op) => _fifo.Append(op);

    /// <summary>Removes the head (it finished); returns it.</summary>
    public IocpOperation RemoveHead() => _fifo.RemoveHead();

    /// <summary>Takes <paramref name="op"/> out if it waits behind the head; false if it is the head
    /// (in the OS's hands) or no longer queued.</summary>
    public bool TryRemoveWaiting(IocpOperation op) => _fifo.TryRemove(op, exceptHead: true);
}
