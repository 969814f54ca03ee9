using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Os;

namespace Proactor.Bench.Load;

/// <summary>
/// The one load generator every server faces: closed loop, every echoed byte compared with what
/// was sent. Its clients run on Proactor engines with inline dispatch, one loop per CPU it may use
/// (the same for every server, and not the thing measured): a round trip costs it a send, a
/// receive and a wake-up on its own loop thread, no thread-pool hops, so the server, not the
/// client, sets the pace. The engine is io_uring where the kernel allows it, else edge-triggered
/// epoll (<see cref="DefaultBackend"/>): System.Net.Sockets clients topped out at 75-100k round
/// trips/s at 64 connections on a 2-core machine, epoll clients at 77-97k (their CPU at 99-100 %
/// against the C and io_uring inline echo servers), io_uring clients at 115-170k.
/// </summary>
/// <remarks>
/// Timeline: open the idle connections, open the active ones, run for the warm-up, then the
/// measured window (only round trips that finish inside it count, and the server's CPU time is
/// sampled at its edges), then stop sending and give outstanding messages the drain time to come
/// back. What has not come back by then is lost and counted as an error.
/// </remarks>
internal sealed partial class LoadGenerator
{
    private const int Warming = 0;
    private const int Measuring = 1;
    private const int Stopping = 2;
    private const int MaxErrorSamples = 5;

    private readonly LoadRequest _request;
    private readonly Payload _payload;
    private readonly LatencyHistogram _latency = new();
    private readonly ConcurrentQueue<string> _errorSamples = new();
    private readonly ConcurrentDictionary<ProactorSocket, byte> _open = new();
    private readonly IReadOnlyList<ProactorEngine> _engines;
    private int _nextEngine;
    private readonly CancellationTokenSource _abort = new();
    private IPEndPoint _endPoint = null!;

    /// <summary>What the stream connections connect to: <see cref="_endPoint"/>, or for the Unix
    /// ping-pong the server's Unix listener derived from the same port.</summary>
    private EndPoint _target = null!;
    private long _errors;
    private int _phase;

    private LoadGenerator(LoadRequest request, IReadOnlyList<ProactorEngine> engines)
    {
        _request = request;
        _engines = engines;
        _payload = new Payload(request.MessageSize);
    }

    private int Phase => Volatile.Read(ref _phase);

    /// <summary>The client backend when none is named: io_uring where the kernel allows it (a round
    /// trip costs the client least there), else edge-triggered epoll.</summary>
    public static string DefaultBackend => s_defaultBackend.Value;

    private static readonly Lazy<string> s_defaultBackend = new(() => Unavailable("io_uring") is null ? "io_uring" : "epoll-et");

    /// <summary>Why the client engines cannot run on <paramref name="backend"/> here (a name as
    /// <c>--loadgen-backend</c> takes it), or null when they can. A backend that falls back to
    /// another one counts as unavailable.</summary>
    public static string? Unavailable(string backend) =>
        Servers.ServerCatalog.TryProbe(Options(backend), out _, out _, out string? reason) ? null : reason;

    /// <summary>Creates the client engines: <paramref name="loops"/> loops of <paramref name="backend"/>
    /// (<see cref="DefaultBackend"/> when null) with inline dispatch.</summary>
    public static ProactorEngine[] CreateEngines(int loops, string? backend = null)
    {
        EngineOptions options = Options(backend ?? DefaultBackend);
        var engines = new ProactorEngine[Math.Max(1, loops)];
        for (int i = 0; i < engines.Length; i++)
        {
            engines[i] = EngineFactory.Create(options);
        }

        return engines;
    }

    private static EngineOptions Options(string backend)
    {
        (BackendKind kind, bool levelTriggered) = Cli.BackendNames.ParseBackend(backend);
        return new EngineOptions { Backend = kind, EpollLevelTriggered = levelTriggered, Dispatch = CompletionDispatch.Inline };
    }

    /// <summary>Runs one measurement on a client engine of its own (tests; the load process keeps its engines).</summary>
    public static async Task<LoadResult> RunAsync(LoadRequest request, string? backend = null, CancellationToken cancellationToken = default)
    {
        ProactorEngine[] engines = CreateEngines(1, backend);
        try
        {
            return await RunAsync(request, engines, cancellationToken);
        }
        finally
        {
            foreach (ProactorEngine engine in engines)
            {
                engine.Dispose();
            }
        }
    }

    /// <summary>Runs one measurement against the server at <see cref="LoadRequest.Host"/>:<see cref="LoadRequest.Port"/>,
    /// its connections spread over <paramref name="engines"/>.</summary>
    public static async Task<LoadResult> RunAsync(LoadRequest request, IReadOnlyList<ProactorEngine> engines, CancellationToken cancellationToken = default)
    {
        Validate(request);
        ArgumentNullException.ThrowIfNull(engines);
        var generator = new LoadGenerator(request, engines);
        using CancellationTokenRegistration link = cancellationToken.UnsafeRegister(static s => ((LoadGenerator)s!)._abort.Cancel(), generator);
        try
        {
            return await generator.RunAsync();
        }
        finally
        {
            generator.CloseAll();
            generator._abort.Dispose();
        }
    }

    public static void Validate(LoadRequest r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (r.Port is < 1 or > 65535 || r.Connections < 1 || r.MessageSize < 1 || r.InFlight < 1 || r.Idle < 0 ||
            r.DurationSeconds <= 0 || r.WarmupSeconds < 0 || r.DrainSeconds <= 0)
        {
            throw new ArgumentException(
                $"invalid load request: port {r.Port}, {r.Connections} connections, {r.MessageSize} B, {r.InFlight} in flight, {r.Idle} idle, " +
                $"{r.WarmupSeconds}+{r.DurationSeconds}+{r.DrainSeconds} s", nameof(r));
        }
    }

    private async Task<LoadResult> RunAsync()
    {
        var result = new LoadResult { ClientBackend = _engines[0].Name };
        try
        {
            _endPoint = await ResolveAsync(_request.Host, _request.Port);
            _target = _request.Mode == LoadMode.UnixPingPong ? Servers.UnixEcho.EndPointFor(_request.Port) : _endPoint;
            if (_request.Idle > 0)
            {
                await OpenManyAsync(_request.Idle);
            }

            bool perSlot = _request.Mode is LoadMode.Churn or LoadMode.UdpPingPong;
            List<ProactorSocket> active = perSlot ? [] : await OpenManyAsync(_request.Connections);
            result.ConnectionsOpen = _open.Count + (perSlot ? _request.Connections : 0);

            Volatile.Write(ref _notReady, perSlot ? _request.Connections : active.Count);
            Task[] workers = _request.Mode switch
            {
                LoadMode.Churn => Enumerable.Range(0, _request.Connections).Select(i => Task.Run(() => ChurnAsync(i))).ToArray(),
                LoadMode.UdpPingPong => Enumerable.Range(0, _request.Connections).Select(i => Task.Run(() => UdpPingPongAsync(i))).ToArray(),
                LoadMode.Stream => active.Select((s, i) => Task.Run(() => PipelinedAsync(s, i))).ToArray(),
                _ when _request.InFlight > 1 => active.Select((s, i) => Task.Run(() => PipelinedAsync(s, i))).ToArray(),
                _ => active.Select((s, i) => Task.Run(() => PingPongAsync(s, i))).ToArray(),
            };

            // The clock starts once every worker has had its first echo: connects complete in the
            // kernel's backlog before the server accepts them, and a server still accepting 10 000
            // idle connections (poll scans them all per accept) must not eat the measured window.
            if (workers.Length > 0)
            {
                TimeSpan readyTimeout = TimeSpan.FromSeconds(30 + _request.Idle / 200.0);
                try
                {
                    await _ready.Task.WaitAsync(readyTimeout, _abort.Token);
                }
                catch (TimeoutException)
                {
                    Error($"not every connection had its first echo within {readyTimeout.TotalSeconds:0} s");
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(_request.WarmupSeconds), _abort.Token);
            CpuTimes? serverCpu0 = _request.ServerPid > 0 ? ProcessCpuTime.ReadTimes(_request.ServerPid) : null;
            TimeSpan clientCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            long t0 = Stopwatch.GetTimestamp();
            Volatile.Write(ref _phase, Measuring);

            await Task.Delay(TimeSpan.FromSeconds(_request.DurationSeconds), _abort.Token);
            Volatile.Write(ref _phase, Stopping);
            long t1 = Stopwatch.GetTimestamp();
            CpuTimes? serverCpu1 = _request.ServerPid > 0 ? ProcessCpuTime.ReadTimes(_request.ServerPid) : null;
            TimeSpan clientCpu1 = Process.GetCurrentProcess().TotalProcessorTime;

            await DrainAsync(workers);

            result.Seconds = Stopwatch.GetElapsedTime(t0, t1).TotalSeconds;
            result.Messages = Interlocked.Read(ref _messages);
            result.Bytes = Interlocked.Read(ref _bytes);
            result.MessagesPerSecond = result.Messages / result.Seconds;
            result.MegabytesPerSecond = result.Bytes / result.Seconds / 1e6;
            result.P50Us = _latency.PercentileUs(50);
            result.P99Us = _latency.PercentileUs(99);
            result.P999Us = _latency.PercentileUs(99.9);
            result.MaxUs = _latency.MaxUs;
            result.MeanUs = _latency.MeanUs;
            result.ClientCpuSeconds = (clientCpu1 - clientCpu0).TotalSeconds;
            result.ClientCpuUtilization = result.ClientCpuSeconds / result.Seconds / Environment.ProcessorCount;
            if (serverCpu0 is { } c0 && serverCpu1 is { } c1)
            {
                CpuTimes used = c1 - c0;
                result.ServerCpuSeconds = used.Total.TotalSeconds;
                result.ServerKernelSeconds = used.System.TotalSeconds;
                if (result.Messages > 0)
                {
                    result.ServerCpuUsPerMessage = result.ServerCpuSeconds * 1e6 / result.Messages;
                    result.ServerKernelUsPerMessage = result.ServerKernelSeconds * 1e6 / result.Messages;
                }
            }

            if (result.Messages == 0 && _errors == 0)
            {
                Error("no round trip completed in the measured window");
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            result.Fatal = e is SocketException se ? $"{se.SocketErrorCode}: {se.Message}" : e.Message;
        }

        result.Errors = Interlocked.Read(ref _errors);
        result.ErrorSamples = _errorSamples.Take(MaxErrorSamples).ToList();
        return result;
    }

    private long _messages;
    private long _bytes;
    private int _notReady = int.MaxValue;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A worker's first echo came back (or it failed before): one fewer to wait for.</summary>
    private void MarkReady(ref bool ready)
    {
        if (ready)
        {
            return;
        }

        ready = true;
        if (Interlocked.Decrement(ref _notReady) == 0)
        {
            _ready.TrySetResult();
        }
    }

    /// <summary>Counts a round trip that finished at <paramref name="end"/> if it finished inside the window.</summary>
    private void Completed(long start, long end, int bytes)
    {
        if (Phase != Measuring)
        {
            return;
        }

        _latency.RecordTicks(end - start);
        Interlocked.Increment(ref _messages);
        Interlocked.Add(ref _bytes, bytes);
    }

    /// <summary>Waits for every worker to finish its outstanding messages; past the drain time,
    /// closes their sockets: whatever they still waited for was lost.</summary>
    private async Task DrainAsync(Task[] workers)
    {
        Task all = Task.WhenAll(workers);
        try
        {
            await all.WaitAsync(TimeSpan.FromSeconds(_request.DrainSeconds));
        }
        catch (TimeoutException)
        {
            _abort.Cancel();
            CloseAll();
            try
            {
                await all.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                Error("some connections did not stop within 10 s of being closed");
            }
        }
    }

    private void Error(string description)
    {
        Interlocked.Increment(ref _errors);
        if (_errorSamples.Count < MaxErrorSamples)
        {
            _errorSamples.Enqueue(description);
        }
    }

    /// <summary>Records what ended a worker: a verification error, a lost message or a socket error.</summary>
    private void Failed(int connection, long message, Exception e)
    {
        switch (e)
        {
            case LoadException le:
                Error(le.Message);
                break;
            case OperationCanceledException or ObjectDisposedException:
                Error($"connection {connection}: message {message} was not echoed within the {_request.DrainSeconds:0.#} s drain time (lost)");
                break;
            case SocketException se when _abort.IsCancellationRequested:
                Error($"connection {connection}: message {message} was not echoed within the {_request.DrainSeconds:0.#} s drain time (lost; {se.SocketErrorCode})");
                break;
            case SocketException se:
                Error($"connection {connection}: {se.SocketErrorCode} at message {message}");
                break;
            default:
                Error($"connection {connection}: {e.GetType().Name}: {e.Message}");
                break;
        }
    }

    private static async Task<IPEndPoint> ResolveAsync(string host, int port)
    {
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return new IPEndPoint(address, port);
        }

        IPAddress[] addresses = await Dns.GetHostAddressesAsync(host);
        return new IPEndPoint(addresses.First(), port);
    }

    private async Task<ProactorSocket> ConnectAsync(CancellationToken cancellationToken)
    {
        ProactorEngine engine = _engines[(int)((uint)Interlocked.Increment(ref _nextEngine) % (uint)_engines.Count)];
        var socket = new ProactorSocket(engine, _target.AddressFamily);
        try
        {
            if (_target.AddressFamily != AddressFamily.Unix)
            {
                socket.NoDelay = true;
            }

            await socket.ConnectAsync(_target, cancellationToken);
            _open.TryAdd(socket, 0);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Opens <paramref name="count"/> connections, at most 64 connecting at once (the
    /// server's accept queue is finite), within 30 s.</summary>
    private async Task<List<ProactorSocket>> OpenManyAsync(int count)
    {
        var sockets = new ProactorSocket[count];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await Parallel.ForEachAsync(
                Enumerable.Range(0, count),
                new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = timeout.Token },
                async (i, ct) => sockets[i] = await ConnectAsync(ct));
        }
        catch (OperationCanceledException) when (!_abort.IsCancellationRequested)
        {
            throw new TimeoutException($"opening {count} connections to {_target} took longer than 30 s ({_open.Count} open)");
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"could not connect to {_target} ({_open.Count} connections open): {e.SocketErrorCode}: {e.Message}", e);
        }

        return [.. sockets];
    }

    private void CloseAll()
    {
        foreach (ProactorSocket socket in _open.Keys)
        {
            if (_open.TryRemove(socket, out _))
            {
                socket.Dispose();
            }
        }
    }

    private void Close(ProactorSocket socket)
    {
        if (_open.TryRemove(socket, out _))
        {
            socket.Dispose();
        }
    }

    /// <summary>A Proactor send completes only when every byte is written. Pooled, as
    /// <c>ReceiveEchoAsync</c> is: a send that waits for room would otherwise allocate.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask SendAllAsync(ProactorSocket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        await socket.SendAsync(data, cancellationToken);

    /// <summary>Compares received bytes with what was sent; throws a described error on the first difference.</summary>
    private static void Verify(ReadOnlySpan<byte> received, ReadOnlySpan<byte> expected, int connection, long message, int offset)
    {
        if (received.SequenceEqual(expected))
        {
            return;
        }

        int at = received.CommonPrefixLength(expected);
        throw new LoadException(
            $"connection {connection}: message {message} byte {offset + at} came back as 0x{received[at]:x2}, sent 0x{expected[at]:x2} " +
            "(corrupted, lost or reordered data)");
    }
}

/// <summary>A verification failure: the echo was not what was sent.</summary>
internal sealed class LoadException : Exception
{
    public LoadException(string message)
        : base(message)
    {
    }

    public LoadException()
    {
    }

    public LoadException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
