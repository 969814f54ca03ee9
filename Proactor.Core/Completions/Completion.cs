using System;
using System.Net.Sockets;

namespace Proactor;

/// <summary>
/// The result of one operation submitted through a <see cref="CompletionQueue"/>: the operation is
/// finished, and for a receive the bytes are already in <see cref="Buffer"/>.
/// </summary>
public readonly struct Completion
{
    internal Completion(
        OperationKind kind,
        ProactorSocket socket,
        Memory<byte> buffer,
        int bytesTransferred,
        SocketError error,
        bool isCanceled,
        object? userToken,
        ProactorSocket? acceptedSocket)
    {
        Kind = kind;
        Socket = socket;
        Buffer = buffer;
        BytesTransferred = bytesTransferred;
        Error = error;
        IsCanceled = isCanceled;
        UserToken = userToken;
        AcceptedSocket = acceptedSocket;
    }

    /// <summary>What the operation was.</summary>
    public OperationKind Kind { get; }

    /// <summary>The socket the operation was submitted on (the listener, for an accept).</summary>
    public ProactorSocket Socket { get; }

    /// <summary>The buffer handed to the operation; the library no longer uses it.</summary>
    public Memory<byte> Buffer { get; }

    /// <summary>Bytes received or sent. Zero on a receive means the peer closed its side.</summary>
    public int BytesTransferred { get; }

    /// <summary><see cref="SocketError.Success"/>, or why the operation failed.</summary>
    public SocketError Error { get; }

    /// <summary>True when the operation ended because its cancellation token was cancelled
    /// (then <see cref="Error"/> is <see cref="SocketError.OperationAborted"/>).</summary>
    public bool IsCanceled { get; }

    /// <summary>The caller's token given at submission.</summary>
    public object? UserToken { get; }

    /// <summary>For a successful accept: the accepted connection, owned by the caller.</summary>
    public ProactorSocket? AcceptedSocket { get; }

    /// <summary>True when <see cref="Error"/> is <see cref="SocketError.Success"/>.</summary>
    public bool IsSuccess => Error == SocketError.Success;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Kind} {(IsCanceled ? "canceled" : Error.ToString())} bytes={BytesTransferred} token={UserToken}";
}
