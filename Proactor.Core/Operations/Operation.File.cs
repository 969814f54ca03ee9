using Microsoft.Win32.SafeHandles;

namespace Proactor;

/// <summary>
/// The file-sending shape of a send: the kernel copies <see cref="Operation.TransferLength"/> bytes
/// of a file from <see cref="FileOffset"/> to the socket (sendfile(2)). It keeps the kind
/// <see cref="OperationKind.Send"/>, so it queues in the send direction's FIFO behind earlier sends
/// and ahead of later ones; only the syscall differs. A backend that cannot do it reports
/// <see cref="EngineSocket.SupportsFileSend"/> false and never sees one.
/// </summary>
internal abstract partial class Operation
{
    /// <summary>The file whose bytes the send carries; null for every other operation. The caller's
    /// handle: the backend takes a reference around each syscall and never closes it.</summary>
    public SafeFileHandle? SendFileHandle => _rare?.SendFileHandle;

    /// <summary>Where in the file the operation starts; progress is <see cref="BytesTransferred"/> on top.</summary>
    public long FileOffset => _rare?.FileOffset ?? 0;

    /// <summary>Turns this prepared send into a file send of <paramref name="count"/> bytes.</summary>
    internal void SetFile(SafeFileHandle file, long offset, int count)
    {
        RareState rare = Rare;
        rare.SendFileHandle = file;
        rare.FileOffset = offset;
        TransferLength = count;
    }
}
