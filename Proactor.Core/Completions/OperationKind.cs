namespace Proactor;

/// <summary>The kind of a submitted operation.</summary>
public enum OperationKind
{
    /// <summary>Receive bytes into the caller's buffer.</summary>
    Receive,

    /// <summary>Send every byte of the caller's buffer.</summary>
    Send,

    /// <summary>Accept one incoming connection on a listening socket.</summary>
    Accept,

    /// <summary>Connect a socket to a remote end point.</summary>
    Connect,

    /// <summary>Wait until the socket is ready (<see cref="ProactorSocket.WaitAsync"/>): moves no bytes.</summary>
    Poll,
}
