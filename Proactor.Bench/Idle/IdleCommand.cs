using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Cli;
using Proactor.Bench.Compare;
using Proactor.Bench.Os;
using Proactor.Bench.Servers;
using Spectre.Console;

namespace Proactor.Bench.Idle;

/// <summary>
/// <c>idle</c>: what an idle connection costs a server in memory. Each server runs in its own
/// process; after a short warm-up (so code, pools and the runtime's own start-up are in the
/// baseline) its resident memory is read, N connections are opened and each echoed once, and
/// after a pause its resident memory is read again: (after - before) / N is the cost of one idle
/// connection, buffers, socket objects, registrations and pending operations included.
/// </summary>
/// <remarks>
/// Before each reading, every server of this program (Proactor's and the System.Net.Sockets one
/// alike) runs a full, compacting collection that returns freed memory to the OS
/// (<see cref="ServerProcess.CollectAsync"/>): otherwise the reading depends on when the GC last
/// ran, and garbage of the connecting phase (and its not yet decommitted heap) counts as if
/// the idle connections held it. An external server (libuv, C) has no garbage to collect.
/// </remarks>
internal static class IdleCommand
{
    /// <summary>The goal of issue 11: an idle connection holds no buffer, at most 1 KiB.</summary>
    public const long GoalBytesPerConnection = 1024;

    private static readonly TimeSpan CollectTimeout = TimeSpan.FromSeconds(10);

    public sealed record Row(string Server, int Connections, long? Before, long? After, string? Failure)
    {
        public double? BytesPerConnection => Before is { } b && After is { } a && Connections > 0 ? (double)(a - b) / Connections : null;
    }

    public static async Task<int> RunAsync(IdleSettings settings, IAnsiConsole console, CancellationToken cancellationToken)
    {
        int count = settings.ConnectionsValue;
        long? limit = DescriptorLimit.Raise((ulong)Math.Max(65536, count + 1024));
        if (limit is long l && l < count + 256)
        {
            throw new UsageException($"idle: {count} connections need {count + 256} descriptors; RLIMIT_NOFILE is {l} and could not be raised.");
        }

        ServerCatalog.Catalog catalog = ServerCatalog.Discover();
        var options = new Cli.CompareOptions
        {
            Servers = Values.List("idle", "--servers", settings.Servers).Concat(settings.External.Select(e => ExternalServer.Parse(e).Name)).ToList(),
            Externals = settings.External.Select(ExternalServer.Parse).ToList(),
            Workloads = null,
        };
        ComparePlan plan = ComparePlan.Create(options, catalog, limit);

        console.MarkupLine($"[bold]Idle connections[/]: {count} per server, each echoed once; server memory = resident set (VmRSS) growth / connections");
        var rows = new List<Row>();
        foreach (ServerSpec server in plan.Servers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            console.MarkupLine($"[grey]{Markup.Escape(server.Name)}: measuring...[/]");
            rows.Add(await MeasureAsync(server, count, cancellationToken));
        }

        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Server memory per idle connection[/]")
            .Caption($"[grey]before: after 64 warm-up connections came and went; after: {count} connections open, each echoed once, 1 s later; each reading after a full compacting GC in the .NET servers. Goal: ≤ {GoalBytesPerConnection} B per connection[/]");
        table.AddColumn("server");
        table.AddColumn(new TableColumn("connections").RightAligned());
        table.AddColumn(new TableColumn("RSS before").RightAligned());
        table.AddColumn(new TableColumn("RSS after").RightAligned());
        table.AddColumn(new TableColumn("bytes / connection").RightAligned());
        table.AddColumn("notes");
        foreach (Row row in rows)
        {
            table.AddRow(
                Markup.Escape(row.Server),
                row.Connections.ToString(CultureInfo.InvariantCulture),
                Mib(row.Before),
                Mib(row.After),
                row.BytesPerConnection is { } b ? b.ToString("#,0", CultureInfo.InvariantCulture) : "–",
                row.Failure is { } f ? $"[red]{Markup.Escape(f)}[/]" : row.BytesPerConnection <= GoalBytesPerConnection ? "[green]≤ 1 KiB[/]" : "");
        }

        console.Write(table);
        return rows.Any(r => r.Failure is not null) ? BenchCli.ExitFailure : 0;
    }

    private static string Mib(long? bytes) =>
        bytes is { } b ? (b / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB" : "–";

    private static async Task<Row> MeasureAsync(ServerSpec server, int count, CancellationToken cancellationToken)
    {
        ServerProcess process;
        try
        {
            process = await ServerProcess.StartAsync(server, null, TimeSpan.FromSeconds(15));
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return new Row(server.Name, count, null, null, "did not start: " + e.Message);
        }

        var open = new List<Socket>(count);
        try
        {
            var endPoint = new IPEndPoint(IPAddress.Loopback, process.Port);

            // Warm-up: code, pools and the runtime's own growth belong to the baseline.
            var warm = new List<Socket>();
            for (int i = 0; i < 64; i++)
            {
                warm.Add(await ConnectAndEchoAsync(endPoint, i, cancellationToken));
            }

            warm.ForEach(s => s.Dispose());
            await Task.Delay(1000, cancellationToken);
            await process.CollectAsync(CollectTimeout);
            long? before = ProcessMemory.ReadRss(process.Pid);

            for (int i = 0; i < count; i++)
            {
                open.Add(await ConnectAndEchoAsync(endPoint, i, cancellationToken));
            }

            await Task.Delay(1000, cancellationToken);
            await process.CollectAsync(CollectTimeout);
            long? after = ProcessMemory.ReadRss(process.Pid);
            return process.HasExited
                ? new Row(server.Name, count, before, null, $"the server exited: {process.StderrTail}")
                : new Row(server.Name, count, before, after, before is null ? "RSS not readable here (/proc)" : null);
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException)
        {
            return new Row(server.Name, count, null, null, $"after {open.Count} connections: {e.Message}");
        }
        finally
        {
            open.ForEach(s => s.Dispose());
            await process.DisposeAsync();
        }
    }

    /// <summary>Connects and echoes one 64-byte message, checked, then leaves the connection idle.</summary>
    private static async Task<Socket> ConnectAndEchoAsync(IPEndPoint endPoint, int index, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
            byte[] message = new byte[64];
            BitConverter.TryWriteBytes(message, index);
            await socket.SendAsync(message, SocketFlags.None, cancellationToken);
            byte[] echo = new byte[64];
            int got = 0;
            while (got < echo.Length)
            {
                int n = await socket.ReceiveAsync(echo.AsMemory(got), SocketFlags.None, cancellationToken);
                if (n == 0)
                {
                    throw new InvalidOperationException($"connection {index}: the server closed before echoing");
                }

                got += n;
            }

            if (!echo.AsSpan().SequenceEqual(message))
            {
                throw new InvalidOperationException($"connection {index}: the echo differs from what was sent");
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
