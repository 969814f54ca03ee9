using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace Proactor.Tests.Infrastructure;

/// <summary>
/// A loopback listener nobody accepts on, whose accept queue is full: Linux then drops every
/// further SYN (the client retransmits for minutes), so a connect to it stays pending. That is
/// the one loopback-only way to get a connect that neither succeeds nor is refused.
/// </summary>
internal sealed class FullBacklog : IDisposable
{
    private readonly Socket _listener;
    private readonly List<Socket> _fillers = new();

    private FullBacklog(Socket listener) => _listener = listener;

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    public static async Task<FullBacklog> CreateAsync()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0); // room for one queued connection
        var backlog = new FullBacklog(listener);

        // Connect until one does not complete: from then on the queue is full.
        for (int i = 0; i < 16; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            backlog._fillers.Add(filler);
            Task connect = filler.ConnectAsync(backlog.EndPoint);
            if (await Task.WhenAny(connect, Task.Delay(300)) != connect)
            {
                return backlog;
            }

            await connect; // surface a refusal
        }

        backlog.Dispose();
        throw new InvalidOperationException("The listener's accept queue never filled: connects to it all succeeded.");
    }

    public void Dispose()
    {
        foreach (Socket s in _fillers)
        {
            s.Dispose();
        }

        _listener.Dispose();
    }
}
