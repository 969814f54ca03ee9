using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;

namespace Proactor.Bench.Micro;

/// <summary>
/// UDP ping-pong through the allocation-free SocketAddress forms: per operation, one
/// ReceiveFromAsync + SendToAsync pair (each side receives the datagram, then replies to the
/// address its receive filled in). The "sockets" row is System.Net.Sockets with the same .NET 8
/// overloads, for comparison. Allocated bytes per operation are the figure to read: 0 B.
/// </summary>
[MemoryDiagnoser]
public class DatagramBenchmarks
{
    private const int Ops = 64;
    private const string Sockets = "sockets";

    private ProactorEngine? _engine;
    private ProactorSocket _a = null!;
    private ProactorSocket _b = null!;
    private Socket _socketA = null!;
    private Socket _socketB = null!;
    private SocketAddress _bAddress = null!;
    private readonly SocketAddress _aFrom = new(AddressFamily.InterNetwork);
    private readonly SocketAddress _bFrom = new(AddressFamily.InterNetwork);
    private readonly byte[] _ping = new byte[64];
    private readonly byte[] _aBuffer = new byte[256];
    private readonly byte[] _bBuffer = new byte[256];

    [ParamsSource(nameof(Backends))]
    public string Backend { get; set; } = "";

    public static IEnumerable<string> Backends => MicroBackends.Names().Append(Sockets);

    [GlobalSetup]
    public void Setup()
    {
        var loopback = new IPEndPoint(IPAddress.Loopback, 0);
        if (Backend == Sockets)
        {
            _socketA = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            _socketB = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            _socketA.Bind(loopback);
            _socketB.Bind(loopback);
            _bAddress = _socketB.LocalEndPoint!.Serialize();
            return;
        }

        _engine = MicroBackends.Create(Backend);
        _a = ProactorSocket.CreateDatagram(_engine, loopback);
        _b = ProactorSocket.CreateDatagram(_engine, loopback);
        _bAddress = _b.LocalEndPoint!.Serialize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_engine is null)
        {
            _socketA.Dispose();
            _socketB.Dispose();
            return;
        }

        _a.Dispose();
        _b.Dispose();
        _engine.Dispose();
    }

    /// <summary>One ReceiveFromAsync + SendToAsync pair (two per ping-pong).</summary>
    [Benchmark(OperationsPerInvoke = 2 * Ops)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReceiveFromSendToPair()
    {
        if (_engine is null)
        {
            for (int i = 0; i < Ops; i++)
            {
                ValueTask<int> bReceive = _socketB.ReceiveFromAsync(_bBuffer, SocketFlags.None, _bFrom);
                await _socketA.SendToAsync(_ping, SocketFlags.None, _bAddress);
                int n = await bReceive;
                ValueTask<int> aReceive = _socketA.ReceiveFromAsync(_aBuffer, SocketFlags.None, _aFrom);
                await _socketB.SendToAsync(_bBuffer.AsMemory(0, n), SocketFlags.None, _bFrom);
                await aReceive;
            }

            return;
        }

        for (int i = 0; i < Ops; i++)
        {
            ValueTask<int> bReceive = _b.ReceiveFromAsync(_bBuffer, SocketFlags.None, _bFrom);
            await _a.SendToAsync(_ping, SocketFlags.None, _bAddress);
            int n = await bReceive;
            ValueTask<int> aReceive = _a.ReceiveFromAsync(_aBuffer, SocketFlags.None, _aFrom);
            await _b.SendToAsync(_bBuffer.AsMemory(0, n), SocketFlags.None, _bFrom);
            await aReceive;
        }
    }
}
