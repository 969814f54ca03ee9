using System;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    /// <summary>
    /// Steady state of a UDP ping-pong through the SocketAddress forms (.NET 8's allocation-free
    /// shape): a ReceiveFromAsync and a SendToAsync per datagram, each side replying to the address
    /// its receive filled in, allocate nothing. Measured as the TCP round-trip test is (process-wide,
    /// best of three, the runtime's cost of pending awaits subtracted).
    /// </summary>
    [Test]
    public async Task Steady_state_ReceiveFrom_and_SendTo_allocate_nothing()
    {
        using ProactorSocket a = ProactorSocket.CreateDatagram(Engine, new IPEndPoint(IPAddress.Loopback, 0));
        using ProactorSocket b = ProactorSocket.CreateDatagram(Engine, new IPEndPoint(IPAddress.Loopback, 0));
        SocketAddress bAddress = ((IPEndPoint)b.LocalEndPoint!).Serialize();
        var aFrom = new SocketAddress(AddressFamily.InterNetwork);
        var bFrom = new SocketAddress(AddressFamily.InterNetwork);
        byte[] ping = new byte[64];
        byte[] aBuffer = new byte[256];
        byte[] bBuffer = new byte[256];
        long pendingAwaits = 0;

        ValueTask<int> Counted(ValueTask<int> operation)
        {
            if (!operation.IsCompleted)
            {
                pendingAwaits++;
            }

            return operation;
        }

        async Task PingPongsAsync(int count)
        {
            for (int i = 0; i < count; i++)
            {
                ValueTask<int> bReceive = b.ReceiveFromAsync(bBuffer, SocketFlags.None, bFrom);
                await Counted(a.SendToAsync(ping, SocketFlags.None, bAddress));
                int n = await Counted(bReceive);
                ValueTask<int> aReceive = a.ReceiveFromAsync(aBuffer, SocketFlags.None, aFrom);
                await Counted(b.SendToAsync(bBuffer.AsMemory(0, n), SocketFlags.None, bFrom));
                if (await Counted(aReceive) != n)
                {
                    Assert.Fail("a datagram changed length on the way");
                }
            }
        }

        await PingPongsAsync(RoundTripsAreSlow ? 600 : 2000).Timeout();
        int PingPongs = RoundTripsAreSlow ? 1500 : 5000;
        double perPair = double.MaxValue;
        long allocated = 0;
        for (int attempt = 0; attempt < 3 && perPair >= 1.0; attempt++)
        {
            pendingAwaits = 0;
            long bytes = await ProcessAllocations.MeasureAsync(() => PingPongsAsync(PingPongs).Timeout());

            // Two ReceiveFrom+SendTo pairs per ping-pong.
            double per = (double)(bytes - (pendingAwaits * RuntimeBytesPerPendingAwait)) / (2 * PingPongs);
            if (per < perPair)
            {
                (allocated, perPair) = (bytes, per);
            }
        }

        TestContext.Out.WriteLine($"{Engine.Name}: {allocated} bytes over {2 * PingPongs} ReceiveFrom+SendTo pairs = {perPair:F2} B per pair");
        Assert.That(perPair, Is.LessThan(2.0), $"{perPair:F1} B allocated per ReceiveFrom+SendTo pair");
    }
}
