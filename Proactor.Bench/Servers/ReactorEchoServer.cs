using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Bench.Servers;

/// <summary>
/// The echo server written as a Reactor: each connection is registered with a handler that, told
/// the socket is readable, reads with <see cref="ProactorSocket.TryReceive"/> and writes back with
/// <see cref="ProactorSocket.TrySend"/>; what does not fit waits for Writable. Handlers run on the
/// loop thread, so one receive buffer serves every connection and an idle one pins none.
/// Connections are accepted with the Proactor's AcceptAsync: the comparison is about the echo path.
/// </summary>
internal sealed class ReactorEchoServer : IEchoServer
{
    private readonly ProactorEngine _engine;
    private readonly ProactorSocket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _loopBuffer = new byte[EchoSettings.BufferSize]; // loop thread only

    public ReactorEchoServer(EngineOptions options, IPEndPoint endPoint)
    {
        _engine = EngineFactory.Create(options with { Dispatch = CompletionDispatch.Inline });
        try
        {
            _listener = ProactorSocket.CreateListener(_engine, endPoint, EchoSettings.Backlog);
            EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
            Name = $"Reactor over {_engine.Name}: readiness handlers doing TryReceive/TrySend";
            _ = AcceptLoopAsync();
        }
        catch
        {
            _engine.Dispose();
            throw;
        }
    }

    public IPEndPoint EndPoint { get; }

    public string Name { get; }

    /// <summary>The reactor rows of the comparison: one per demultiplexer this machine has, and
    /// io_uring through poll SQEs (IOCP offers no readiness API; see docs/reactor.md).</summary>
    public static IEnumerable<ServerSpec> Specs(IReadOnlyList<ServerSpec> proactorServers)
    {
        foreach (ServerSpec spec in proactorServers)
        {
            if (spec.Kind == ServerKind.Proactor && spec.Dispatch == CompletionDispatch.ThreadPool && spec.Loops == 0 && !spec.SqeOnly &&
                spec.Backend is not BackendKind.Iocp)
            {
                yield return spec with
                {
                    Name = $"reactor/{spec.Name}",
                    Kind = ServerKind.Reactor,
                    Dispatch = CompletionDispatch.Inline,
                    FullProfileOnly = false,
                    Description = $"Reactor over {spec.Name}: the handler reads and writes on readiness (TryReceive/TrySend)",
                };
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            ProactorSocket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException ||
                                      (e is SocketException se && (se.SocketErrorCode == SocketError.OperationAborted || _stop.IsCancellationRequested)))
            {
                return;
            }
            catch (SocketException e)
            {
                Console.Error.WriteLine($"accept failed: {e.Message}");
                await Task.Delay(10);
                continue;
            }

            try
            {
                connection.NoDelay = true;
                var handler = new Connection(_loopBuffer);
                handler.Attach(connection.RegisterHandler(handler, SocketEvents.Readable));
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                connection.Dispose();
            }
        }
    }

    /// <summary>One connection's handler: echo what is readable; keep what the kernel did not take
    /// and wait for Writable (not reading meanwhile: the client's window is the back-pressure).</summary>
    private sealed class Connection(byte[] loopBuffer) : IReactorHandler
    {
        private ReactorRegistration? _registration;
        private SocketEvents? _wantedBeforeAttach;
        private byte[]? _backlog;

        /// <summary>Called once RegisterHandler returned; on an inline engine the handler may
        /// already have run inside it (the socket was readable at once) and asked for a change.</summary>
        public void Attach(ReactorRegistration registration)
        {
            _registration = registration;
            if (_wantedBeforeAttach is { } events && registration.IsActive)
            {
                registration.ChangeEvents(events);
            }
        }

        private void Want(SocketEvents events)
        {
            if (_registration is null)
            {
                _wantedBeforeAttach = events;
                return;
            }

            if (_registration.IsActive)
            {
                _registration.ChangeEvents(events);
            }
        }
        private int _backlogStart;
        private int _backlogEnd;

        public void HandleEvents(ProactorSocket socket, SocketEvents events)
        {
            if ((events & SocketEvents.Writable) != 0 && !Flush(socket))
            {
                return;
            }

            if (_backlog is not null)
            {
                return; // still waiting for room
            }

            // Drain until would-block: on epoll-et nothing else will say that data is left.
            while (socket.TryReceive(loopBuffer, out int n, out SocketError error))
            {
                if (n == 0 || error != SocketError.Success)
                {
                    socket.Dispose();
                    return;
                }

                if (!SendOrKeep(socket, loopBuffer.AsSpan(0, n)))
                {
                    return;
                }
            }
        }

        private bool SendOrKeep(ProactorSocket socket, ReadOnlySpan<byte> data)
        {
            while (!data.IsEmpty)
            {
                if (!socket.TrySend(data, out int sent, out SocketError error))
                {
                    _backlog ??= new byte[EchoSettings.BufferSize];
                    data.CopyTo(_backlog);
                    (_backlogStart, _backlogEnd) = (0, data.Length);
                    Want(SocketEvents.Writable);
                    return false;
                }

                if (error != SocketError.Success)
                {
                    socket.Dispose();
                    return false;
                }

                data = data[sent..];
            }

            return true;
        }

        private bool Flush(ProactorSocket socket)
        {
            if (_backlog is null)
            {
                return true;
            }

            ReadOnlySpan<byte> rest = _backlog.AsSpan(_backlogStart, _backlogEnd - _backlogStart);
            while (!rest.IsEmpty)
            {
                if (!socket.TrySend(rest, out int sent, out SocketError error))
                {
                    _backlogStart = _backlogEnd - rest.Length;
                    return false;
                }

                if (error != SocketError.Success)
                {
                    socket.Dispose();
                    return false;
                }

                rest = rest[sent..];
            }

            _backlog = null;
            Want(SocketEvents.Readable);
            return true;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _engine.Dispose();
        _stop.Dispose();
    }
}
