using System;
using System.Threading;

namespace Proactor;

public sealed partial class ProactorSocket
{
    // What only some sockets use lives in one side object, made on first need: the per-socket
    // operations of backends that do not share them (IOCP, managed), a reactor registration, a
    // listener's engine selector, a datagram socket's packet-information switch. An accepted
    // connection on Linux (what a server holds many idle of) then carries none of it.
    private RareState? _rare;

    private RareState Rare
    {
        get
        {
            RareState? rare = Volatile.Read(ref _rare);
            if (rare is null)
            {
                Interlocked.CompareExchange(ref _rare, new RareState(), null);
                rare = _rare;
            }

            return rare!;
        }
    }

    private sealed class RareState
    {
        public Operation? CachedReceive; // per-socket caching, for backends that do not share operations
        public Operation? CachedSend;
        public OperationPool? Receives; // spares, when several operations of a direction overlap
        public OperationPool? Sends;
        public ReactorRegistration? Reactor;
        public Func<ProactorEngine>? AcceptedEngineSelector;
        public int PacketInformationEnabled;
    }

    /// <summary>For a listener of an engine group: picks the engine each accepted connection lives on.</summary>
    internal Func<ProactorEngine>? AcceptedEngineSelector
    {
        get => Volatile.Read(ref _rare)?.AcceptedEngineSelector;
        set => Rare.AcceptedEngineSelector = value;
    }
}
