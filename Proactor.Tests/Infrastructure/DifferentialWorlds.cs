using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor.Tests.Infrastructure;

/// <summary>
/// One connected pair on which the differential test replays a sequence of steps, written once
/// per API: <see cref="ProactorWorld"/> and <see cref="SocketWorld"/> (System.Net.Sockets).
/// Every step returns its observable outcome as a short string: equal strings mean the two APIs
/// behaved the same.
/// </summary>
internal abstract class DifferentialWorld : IDisposable
{
    /// <summary>How long a step may wait for an outcome the model says must come.</summary>
    protected static readonly TimeSpan StepBound = TimeSpan.FromSeconds(10);

    public abstract Task<string> SendAsync(int side, byte[] data);

    /// <summary>Receives into a <paramref name="size"/>-byte buffer until at least
    /// <paramref name="atLeast"/> bytes came (the model's count of what was sent and must be
    /// there), or the stream ended or failed: both worlds then consume the same bytes however the
    /// kernel split or delayed them (a busy machine may deliver loopback data late).</summary>
    public abstract Task<string> ReceiveAsync(int side, int size, int atLeast);

    /// <summary>A receive ended by a deadline: Proactor's own timeout, System.Net.Sockets' token
    /// (it has no per-operation timeout); both report as "timed out".</summary>
    public abstract Task<string> ReceiveWithTimeoutAsync(int side, int size, TimeSpan timeout);

    public abstract Task<string> ReceiveCancelledAsync(int side, int size);

    /// <summary>Two receives pending at once, then one send from the peer longer than the first:
    /// per direction, the first submitted must get the first bytes, the second the rest.</summary>
    public abstract Task<string> PipelinedReceivesAsync(int side, int first, int second, byte[] data);

    public abstract string Shutdown(int side);

    public abstract string Reset(int side);

    public abstract void Dispose();

    protected static string Got(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
        {
            return "end";
        }

        uint hash = 2166136261;
        foreach (byte b in data)
        {
            hash = (hash ^ b) * 16777619;
        }

        return $"got {data.Length} #{hash:x8}";
    }

    /// <summary>Receives into a <paramref name="size"/>-byte buffer until <paramref name="atLeast"/>
    /// bytes came, the stream ended or a receive failed.</summary>
    protected static async Task<string> ReceiveAtLeastAsync(Func<Memory<byte>, ValueTask<int>> receive, int size, int atLeast)
    {
        byte[] buffer = new byte[size];
        int total = 0;
        do
        {
            int n = await receive(buffer.AsMemory(total));
            if (n == 0)
            {
                break;
            }

            total += n;
        }
        while (total < atLeast);

        return Got(buffer.AsSpan(0, total));
    }

    protected static string Describe(Exception e) => e switch
    {
        SocketException se => $"error {se.SocketErrorCode}",
        OperationCanceledException => "cancelled",
        ObjectDisposedException => "disposed",
        TimeoutException => "no outcome within the bound",
        _ => $"threw {e.GetType().Name}",
    };

    protected static async Task<string> OutcomeAsync(Func<Task<string>> step)
    {
        try
        {
            return await step().WaitAsync(StepBound).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return Describe(e);
        }
        finally
        {
            await Net.ToThePool();
        }
    }

    protected static string Outcome(Action step)
    {
        try
        {
            step();
            return "ok";
        }
        catch (Exception e)
        {
            return Describe(e);
        }
    }
}

internal sealed class ProactorWorld : DifferentialWorld
{
    private readonly ProactorSocket[] _sides;

    private ProactorWorld(ProactorSocket a, ProactorSocket b) => _sides = new[] { a, b };

    public static async Task<ProactorWorld> CreateAsync(ProactorEngine engine)
    {
        var (client, server) = await Net.ConnectedPairAsync(engine);
        client.NoDelay = server.NoDelay = true; // see SocketWorld.CreateAsync
        return new ProactorWorld(client, server);
    }

    public override Task<string> SendAsync(int side, byte[] data) =>
        OutcomeAsync(async () => $"sent {await _sides[side].SendAsync(data)}");

    public override Task<string> ReceiveAsync(int side, int size, int atLeast) =>
        OutcomeAsync(() => ReceiveAtLeastAsync(buffer => _sides[side].ReceiveAsync(buffer), size, atLeast));

    public override Task<string> ReceiveWithTimeoutAsync(int side, int size, TimeSpan timeout) =>
        OutcomeAsync(async () =>
        {
            byte[] buffer = new byte[size];
            try
            {
                int n = await _sides[side].ReceiveAsync(buffer, timeout);
                return Got(buffer.AsSpan(0, n));
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                return "timed out";
            }
        });

    public override Task<string> ReceiveCancelledAsync(int side, int size) =>
        OutcomeAsync(async () =>
        {
            using var cts = new CancellationTokenSource();
            byte[] buffer = new byte[size];
            ValueTask<int> receive = _sides[side].ReceiveAsync(buffer, cts.Token);
            await Task.Delay(10);
            await cts.CancelAsync();
            int n = await receive;
            return Got(buffer.AsSpan(0, n));
        });

    public override Task<string> PipelinedReceivesAsync(int side, int first, int second, byte[] data) =>
        OutcomeAsync(async () =>
        {
            byte[] one = new byte[first];
            byte[] two = new byte[second];
            ValueTask<int> r1 = _sides[side].ReceiveAsync(one);
            ValueTask<int> r2 = _sides[side].ReceiveAsync(two);
            string sent = $"sent {await _sides[1 - side].SendAsync(data)}";
            int n1 = await r1;
            int n2 = await r2;
            return $"{sent}; first {Got(one.AsSpan(0, n1))}, second {Got(two.AsSpan(0, n2))}";
        });
    public override string Shutdown(int side) => Outcome(() => _sides[side].Shutdown(SocketShutdown.Send));

    public override string Reset(int side) => Outcome(() =>
    {
        _sides[side].LingerState = new LingerOption(true, 0);
        _sides[side].Dispose();
    });

    public override void Dispose()
    {
        _sides[0].Dispose();
        _sides[1].Dispose();
    }
}

internal sealed class SocketWorld : DifferentialWorld
{
    private readonly Socket[] _sides;

    private SocketWorld(Socket a, Socket b) => _sides = new[] { a, b };

    public static async Task<SocketWorld> CreateAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Task<Socket> accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!).WaitAsync(StepBound);
        Socket server = await accept.WaitAsync(StepBound);

        // Every byte a step sends must leave at once, as the model of the steps assumes. With
        // Nagle's algorithm a small send that follows another can wait in the sender's queue for
        // the peer's delayed ACK (up to 40 ms), and a reset within that time discards it: the two
        // worlds then disagree on what the peer had received, by timing alone (seed 875213337:
        // 498 of 1,796 bytes on one side, all of them on the other).
        client.NoDelay = server.NoDelay = true;
        return new SocketWorld(client, server);
    }

    public override Task<string> SendAsync(int side, byte[] data) =>
        OutcomeAsync(async () => $"sent {await _sides[side].SendAsync(data.AsMemory())}");

    public override Task<string> ReceiveAsync(int side, int size, int atLeast) =>
        OutcomeAsync(() => ReceiveAtLeastAsync(buffer => _sides[side].ReceiveAsync(buffer), size, atLeast));

    public override Task<string> ReceiveWithTimeoutAsync(int side, int size, TimeSpan timeout) =>
        OutcomeAsync(async () =>
        {
            using var cts = new CancellationTokenSource(timeout);
            byte[] buffer = new byte[size];
            try
            {
                int n = await _sides[side].ReceiveAsync(buffer.AsMemory(), cts.Token);
                return Got(buffer.AsSpan(0, n));
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                return "timed out";
            }
        });

    public override Task<string> ReceiveCancelledAsync(int side, int size) =>
        OutcomeAsync(async () =>
        {
            using var cts = new CancellationTokenSource();
            byte[] buffer = new byte[size];
            ValueTask<int> receive = _sides[side].ReceiveAsync(buffer.AsMemory(), cts.Token);
            await Task.Delay(10);
            await cts.CancelAsync();
            int n = await receive;
            return Got(buffer.AsSpan(0, n));
        });

    public override Task<string> PipelinedReceivesAsync(int side, int first, int second, byte[] data) =>
        OutcomeAsync(async () =>
        {
            byte[] one = new byte[first];
            byte[] two = new byte[second];
            ValueTask<int> r1 = _sides[side].ReceiveAsync(one.AsMemory());
            ValueTask<int> r2 = _sides[side].ReceiveAsync(two.AsMemory());
            string sent = $"sent {await _sides[1 - side].SendAsync(data.AsMemory())}";
            int n1 = await r1;
            int n2 = await r2;
            return $"{sent}; first {Got(one.AsSpan(0, n1))}, second {Got(two.AsSpan(0, n2))}";
        });
    public override string Shutdown(int side) => Outcome(() => _sides[side].Shutdown(SocketShutdown.Send));

    public override string Reset(int side) => Outcome(() =>
    {
        _sides[side].LingerState = new LingerOption(true, 0);
        _sides[side].Dispose();
    });

    public override void Dispose()
    {
        _sides[0].Dispose();
        _sides[1].Dispose();
    }
}
