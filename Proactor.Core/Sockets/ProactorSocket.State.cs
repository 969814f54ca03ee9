using System;
using System.Net.Sockets;

namespace Proactor;

public sealed partial class ProactorSocket
{
    /// <summary>The number of bytes received and not yet read: what the kernel holds (FIONREAD),
    /// plus what the engine already took from it for the next receives (io_uring receives into
    /// its buffer ring ahead of them).</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The OS refused the query.</exception>
    public int Available
    {
        get
        {
            ThrowIfDisposed();

            // Held bytes first: bytes the engine moves out of the kernel between the two reads
            // are then missed (as if not arrived yet), never counted twice.
            int held = _engineSocket.HeldReceiveBytes;
            return held + OsSocket.Available;
        }
    }

    /// <summary>
    /// Whether the socket was connected as of its last operation, as <see cref="Socket.Connected"/>
    /// reports it: true after a successful connect or accept; false before, after an operation
    /// failed with a connection error (a reset, a refused connect, ...), after
    /// <see cref="Shutdown"/> and after <see cref="Dispose"/>. A peer's orderly close (a receive of 0
    /// bytes) does not change it. Cancellations and timeouts do not change it either.
    /// </summary>
    public bool Connected => _connected && !_disconnected && !IsDisposed;

    /// <summary>
    /// Always false: a <see cref="ProactorSocket"/>'s descriptor is non-blocking, because its
    /// engine performs (or hands the OS) every operation without waiting.
    /// </summary>
    /// <exception cref="NotSupportedException">Set to true.</exception>
    public bool Blocking
    {
        get => false;
        set
        {
            if (value)
            {
                throw new NotSupportedException(
                    "A ProactorSocket is always non-blocking: its engine completes operations asynchronously. " +
                    "Await the operations instead, or use System.Net.Sockets.Socket for blocking calls.");
            }
        }
    }

    /// <summary>Reads a raw option by platform level and name (getsockopt).</summary>
    /// <param name="optionLevel">The platform's level, e.g. SOL_SOCKET (1 on Linux, 0xffff on Windows).</param>
    /// <param name="optionName">The platform's option name.</param>
    /// <param name="optionValue">Receives the option's value.</param>
    /// <returns>The number of bytes written to <paramref name="optionValue"/>.</returns>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The OS refused the option.</exception>
    public int GetRawSocketOption(int optionLevel, int optionName, Span<byte> optionValue)
    {
        ThrowIfDisposed();
        return OsSocket.GetRawSocketOption(optionLevel, optionName, optionValue);
    }

    /// <summary>An operation failed with <paramref name="error"/>: a connection error ends
    /// <see cref="Connected"/>, as <see cref="Socket"/>'s status update after a failed call does.</summary>
    internal void OnOperationFailed(SocketError error)
    {
        if (error is not (SocketError.Success or SocketError.OperationAborted or SocketError.TimedOut
            or SocketError.WouldBlock or SocketError.IOPending or SocketError.NoBufferSpaceAvailable))
        {
            _disconnected = true;
        }
    }
}
