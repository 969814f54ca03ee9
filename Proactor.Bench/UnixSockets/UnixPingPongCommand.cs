using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Cli;
using Proactor.Bench.Micro;
using Spectre.Console;

namespace Proactor.Bench.UnixSockets;

/// <summary>
/// <c>unix-pingpong</c>: a Unix domain socket ping-pong, each Proactor backend's echo server beside
/// a System.Net.Sockets one over <see cref="UnixDomainSocketEndPoint"/>. The clients are the same
/// System.Net.Sockets code for every server, so only the server differs. It runs in one process
/// (client and server share the CPUs), in interleaved rounds, and prints round trips per second:
/// the comparison runner's port-based servers and load generator have no Unix socket path yet.
/// </summary>
internal static class UnixPingPongCommand
{
    public const string Usage = "unix-pingpong [--connections N] [--size B] [--duration T] [--rounds R] [--backends a,b]";

    private const string SocketsName = "sockets";

    public static async Task<int> RunAsync(string[] args)
    {
        int connections = 1;
        int size = 64;
        TimeSpan duration = TimeSpan.FromSeconds(2);
        int rounds = 3;
        string[]? only = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{args[i]} needs a value; usage: {Usage}");
            switch (args[i])
            {
                case "--connections":
                    connections = PositiveInt(Value(), "--connections");
                    break;
                case "--size":
                    size = PositiveInt(Value(), "--size");
                    break;
                case "--duration":
                    duration = TimeSpan.FromSeconds(double.Parse(Value().TrimEnd('s'), CultureInfo.InvariantCulture));
                    break;
                case "--rounds":
                    rounds = PositiveInt(Value(), "--rounds");
                    break;
                case "--backends":
                    only = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    break;
                default:
                    throw new UsageException($"unix-pingpong: unknown option '{args[i]}'; usage: {Usage}");
            }
        }

        var servers = new List<string> { SocketsName };
        servers.AddRange(MicroBackends.Names().Where(n => !n.EndsWith("/inline", StringComparison.Ordinal)));
        servers = servers.Where(n => only is null || only.Contains(n)).ToList();
        if (servers.Count == 0)
        {
            throw new UsageException($"unix-pingpong: no server matches; available: {SocketsName}, {string.Join(", ", MicroBackends.Names())}");
        }

        Console.Out.WriteLine($"Unix domain stream ping-pong: {connections} connection(s), {size} B messages, {duration.TotalSeconds:F1} s x {rounds} interleaved rounds (round trips/s)");
        foreach (string server in servers)
        {
            // Unmeasured: JIT and the first connection's setup are no part of the steady state.
            await MeasureAsync(server, connections, size, TimeSpan.FromSeconds(0.5));
        }

        var results = servers.ToDictionary(s => s, _ => new List<double>());
        for (int round = 0; round < rounds; round++)
        {
            foreach (string server in servers)
            {
                results[server].Add(await MeasureAsync(server, connections, size, duration));
            }
        }

        double baseline = Median(results[SocketsName].Count > 0 ? results[SocketsName] : [double.NaN]);
        var table = new Table().AddColumns("server", "round trips/s", "vs sockets");
        foreach (string server in servers)
        {
            double median = Median(results[server]);
            table.AddRow(Markup.Escape(server),
                Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{median:F0} [{results[server].Min():F0}-{results[server].Max():F0}]")),
                Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{median / baseline:F2}x")));
        }

        AnsiConsole.Write(table);
        Console.Out.WriteLine("Each cell: the median over the rounds, [min-max] of the rounds.");
        return 0;
    }

    private static async Task<double> MeasureAsync(string server, int connections, int size, TimeSpan duration)
    {
        string path = Path.Combine(Path.GetTempPath(), $"pxb-{Guid.NewGuid():N}"[..16] + ".sock");
        var endPoint = new UnixDomainSocketEndPoint(path);
        using var stop = new CancellationTokenSource();
        ProactorEngine? engine = server == SocketsName ? null : MicroBackends.Create(server);
        Task serving;
        IDisposable listener;
        if (engine is null)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(endPoint);
            socket.Listen(512);
            listener = socket;
            serving = ServeSocketsAsync(socket, size, stop.Token);
        }
        else
        {
            ProactorSocket socket = ProactorSocket.CreateListener(engine, endPoint);
            listener = socket;
            serving = ServeProactorAsync(socket, size, stop.Token);
        }

        try
        {
            long roundTrips = 0;
            var clients = new Task[connections];
            var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            for (int i = 0; i < connections; i++)
            {
                clients[i] = Task.Run(async () =>
                {
                    using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await client.ConnectAsync(endPoint);
                    byte[] message = new byte[size];
                    byte[] reply = new byte[size];
                    long mine = 0;
                    while (Stopwatch.GetTimestamp() < deadline)
                    {
                        await client.SendAsync(message, SocketFlags.None);
                        for (int got = 0; got < size;)
                        {
                            int n = await client.ReceiveAsync(reply.AsMemory(got), SocketFlags.None);
                            if (n == 0)
                            {
                                throw new IOException("The echo server closed the connection.");
                            }

                            got += n;
                        }

                        mine++;
                    }

                    Interlocked.Add(ref roundTrips, mine);
                });
            }

            long start = Stopwatch.GetTimestamp();
            await Task.WhenAll(clients).WaitAsync(duration + TimeSpan.FromSeconds(60));
            return roundTrips / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        finally
        {
            stop.Cancel();
            listener.Dispose();
            try
            {
                await serving.WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // the listener was closed under its accept loop
            }

            engine?.Dispose();
            File.Delete(path);
        }
    }

    private static async Task ServeProactorAsync(ProactorSocket listener, int size, CancellationToken stop)
    {
        var connections = new List<Task>();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                ProactorSocket connection = await listener.AcceptAsync(stop);
                connections.Add(Task.Run(async () =>
                {
                    using (connection)
                    {
                        byte[] buffer = new byte[Math.Max(size, 4096)];
                        int n;
                        while ((n = await connection.ReceiveAsync(buffer, stop)) > 0)
                        {
                            await connection.SendAsync(buffer.AsMemory(0, n), stop);
                        }
                    }
                }, CancellationToken.None));
            }
        }
        finally
        {
            await Task.WhenAll(connections).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private static async Task ServeSocketsAsync(Socket listener, int size, CancellationToken stop)
    {
        var connections = new List<Task>();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Socket connection = await listener.AcceptAsync(stop);
                connections.Add(Task.Run(async () =>
                {
                    using (connection)
                    {
                        byte[] buffer = new byte[Math.Max(size, 4096)];
                        int n;
                        while ((n = await connection.ReceiveAsync(buffer, SocketFlags.None, stop)) > 0)
                        {
                            await connection.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, stop);
                        }
                    }
                }, CancellationToken.None));
            }
        }
        finally
        {
            await Task.WhenAll(connections).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private static double Median(List<double> values)
    {
        double[] v = values.OrderBy(x => x).ToArray();
        return v[v.Length / 2];
    }

    private static int PositiveInt(string text, string option) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : throw new UsageException($"{option} needs a positive whole number, not '{text}'.");
}
