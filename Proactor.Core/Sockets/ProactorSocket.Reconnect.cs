using System.Net.Sockets;
using System.Threading;

namespace Proactor;

public sealed partial class ProactorSocket
{
    /// <summary>
    /// Gives this socket a new OS socket (registered with the same engine) after a failed connect,
    /// where the OS cannot connect the old one again (<see cref="EngineSocket.CanConnectAgainAfterFailedConnect"/>),
    /// as .NET's <c>Socket.ConnectAsync(DnsEndPoint)</c> does on Windows. Options the caller may have set
    /// are carried over; an explicit <c>Bind</c> is not (the next attempt binds implicitly).
    /// </summary>
    private void ReplaceOsSocketAfterFailedConnect()
    {
        Socket old = OsSocket;
        var fresh = new Socket(old.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (old.AddressFamily == AddressFamily.InterNetworkV6)
            {
                fresh.DualMode = old.DualMode;
            }

            fresh.NoDelay = old.NoDelay;
            fresh.ReceiveBufferSize = old.ReceiveBufferSize;
            fresh.SendBufferSize = old.SendBufferSize;
            fresh.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive,
                (int)old.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)! != 0);
            if (old.LingerState is { } linger)
            {
                fresh.LingerState = linger;
            }
        }
        catch
        {
            fresh.Dispose();
            throw;
        }

        EngineSocket freshEngineSocket = RegisterOrDispose(Engine, fresh);
        EngineSocket oldEngineSocket = _engineSocket;

        // Pooled operations may belong to the old backend socket (the managed backend's do): none is
        // in flight between attempts, so the pools start afresh.
        if (Volatile.Read(ref _rare) is { } rare)
        {
            rare.CachedReceive = null;
            rare.CachedSend = null;
            rare.Receives = null;
            rare.Sends = null;
        }
        Volatile.Write(ref _engineSocket, freshEngineSocket);
        oldEngineSocket.Close();

        // A Dispose that ran meanwhile may have closed the old one only: close the new one too (Close is idempotent).
        if (IsDisposed)
        {
            freshEngineSocket.Close();
        }
    }
}
