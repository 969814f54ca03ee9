using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Bench.Servers;

/// <summary>
/// The datagram side of each echo server: every datagram that reaches the server's port number
/// over UDP goes back to its sender. Started beside the TCP listener on the same port, so the
/// comparison's UDP ping-pong finds it where it finds the server.
/// </summary>
internal static class UdpEcho
{
    /// <summary>Largest datagram echoed (the UDP maximum over IPv4).</summary>
    private const int MaxDatagram = 65507;

    /// <summary>Starts a UDP echo; when the TCP port's number is taken for UDP, says so and runs without it.</summary>
    public static IDisposable? TryStart(Func<IDisposable> start)
    {
        try
        {
            return start();
        }
        catch (SocketException e)
        {
            Console.Error.WriteLine($"udp echo not started: {e.Message}");
            return null;
        }
    }

    /// <summary>Proactor: ReceiveFromAsync into a SocketAddress, SendToAsync back to it (allocation-free).</summary>
    public static IDisposable StartProactor(ProactorEngine engine, IPEndPoint endPoint)
    {
        ProactorSocket socket = ProactorSocket.CreateDatagram(engine, endPoint);
        _ = LoopAsync(socket);
        return socket;

        static async Task LoopAsync(ProactorSocket socket)
        {
            byte[] buffer = new byte[MaxDatagram];
            var from = new SocketAddress(socket.AddressFamily);
            while (true)
            {
                try
                {
                    int n = await socket.ReceiveFromAsync(buffer, SocketFlags.None, from);
                    await socket.SendToAsync(buffer.AsMemory(0, n), SocketFlags.None, from);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
                {
                    return;
                }
                catch (SocketException)
                {
                    // A port-unreachable report of an earlier reply, or a truncated datagram: next.
                }
            }
        }
    }

    /// <summary>System.Net.Sockets async with the same .NET 8 SocketAddress overloads.</summary>
    public static IDisposable StartSockets(IPEndPoint endPoint)
    {
        Socket socket = Bind(endPoint);
        _ = LoopAsync(socket);
        return socket;

        static async Task LoopAsync(Socket socket)
        {
            byte[] buffer = new byte[MaxDatagram];
            var from = new SocketAddress(socket.AddressFamily);
            while (true)
            {
                try
                {
                    int n = await socket.ReceiveFromAsync(buffer, SocketFlags.None, from);
                    await socket.SendToAsync(buffer.AsMemory(0, n), SocketFlags.None, from);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
                {
                    return;
                }
                catch (SocketException)
                {
                }
            }
        }
    }

    /// <summary>The blocking baseline: one thread in ReceiveFrom/SendTo.</summary>
    public static IDisposable StartBlocking(IPEndPoint endPoint)
    {
        Socket socket = Bind(endPoint);
        var thread = new Thread(() =>
        {
            byte[] buffer = new byte[MaxDatagram];
            var from = new SocketAddress(socket.AddressFamily);
            while (true)
            {
                try
                {
                    int n = socket.ReceiveFrom(buffer, SocketFlags.None, from);
                    socket.SendTo(buffer.AsSpan(0, n), SocketFlags.None, from);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.Interrupted or SocketError.OperationAborted or SocketError.NotSocket)
                {
                    return;
                }
                catch (SocketException)
                {
                }
            }
        })
        { IsBackground = true, Name = "udp echo" };
        thread.Start();
        return socket;
    }

    private static Socket Bind(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(endPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
