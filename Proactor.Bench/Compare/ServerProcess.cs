using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Os;
using Proactor.Bench.Servers;

namespace Proactor.Bench.Compare;

/// <summary>
/// A server under test in its own process (so its CPU time is its own): our servers are this
/// program's <c>serve</c> command, which prints the port it got; an external server gets a free
/// port and is ready once it accepts a connection.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stderr = new();

    private ServerProcess(Process process, ServerSpec spec)
    {
        _process = process;
        Spec = spec;
        _process.ErrorDataReceived += (sender, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                _stderr.Enqueue(line);
                while (_stderr.Count > 20 && _stderr.TryDequeue(out _))
                {
                }
            }
        };
        _process.BeginErrorReadLine();
    }

    public ServerSpec Spec { get; }

    public int Pid => _process.Id;

    public int Port { get; private set; }

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the server wrote to stderr, for failure reasons.</summary>
    public string StderrTail => string.Join(" | ", _stderr.TakeLast(3));

    public static async Task<ServerProcess> StartAsync(ServerSpec spec, int[]? cpus, TimeSpan timeout)
    {
        ProcessStartInfo info;
        int port = 0;
        if (spec.Kind == ServerKind.External)
        {
            port = FreePort();
            string command = ExternalServer.WithPort(spec.Command!, port);
            info = new ProcessStartInfo
            {
                FileName = OperatingSystem.IsWindows() ? "cmd.exe" : "/bin/sh",
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            info.ArgumentList.Add(OperatingSystem.IsWindows() ? "/c" : "-c");
            info.ArgumentList.Add(OperatingSystem.IsWindows() ? command : "exec " + command);
            SelfLauncher.SteadyTiering(info);
        }
        else
        {
            info = SelfLauncher.Create(spec.ServeArguments(0));
        }

        var server = new ServerProcess(CpuAffinity.Start(info, cpus), spec);
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            server.Port = spec.Kind == ServerKind.External
                ? await server.WaitUntilAcceptingAsync(port, cts.Token)
                : await server.ReadListeningPortAsync(cts.Token);
            return server;
        }
        catch (OperationCanceledException)
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"{spec.Name} did not start listening within {timeout.TotalSeconds:0} s. {server.StderrTail}".TrimEnd());
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task<int> ReadListeningPortAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            string? line = await _process.StandardOutput.ReadLineAsync(cancellationToken);
            if (line is null)
            {
                await _process.WaitForExitAsync(cancellationToken);
                await Task.Delay(50, cancellationToken); // let the stderr reader catch up
                throw new InvalidOperationException($"{Spec.Name} exited with code {_process.ExitCode} before listening: {StderrTail}");
            }

            if (line.StartsWith(ServeCommand.ListeningPrefix, StringComparison.Ordinal))
            {
                string endPoint = line[ServeCommand.ListeningPrefix.Length..].Split(' ')[0];
                int colon = endPoint.LastIndexOf(':');
                if (colon > 0 && int.TryParse(endPoint[(colon + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out int port))
                {
                    _ = DrainStdoutAsync();
                    return port;
                }
            }
        }
    }

    private async Task DrainStdoutAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line == ServeCommand.CollectedReply)
                {
                    Volatile.Read(ref _collected)?.TrySetResult(line);
                }
                else if (line.StartsWith(ServeCommand.JitReplyPrefix, StringComparison.Ordinal))
                {
                    Volatile.Read(ref _jit)?.TrySetResult(line[ServeCommand.JitReplyPrefix.Length..]);
                }
            }
        }
        catch (Exception)
        {
            // the process is gone
        }
    }

    private async Task<int> WaitUntilAcceptingAsync(int port, CancellationToken cancellationToken)
    {
        _ = DrainStdoutAsync();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Spec.Name} exited with code {_process.ExitCode} before accepting connections: {StderrTail}");
            }

            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
                return port;
            }
            catch (SocketException)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    private TaskCompletionSource<string>? _collected;

    /// <summary>
    /// Asks one of our servers for a full, compacting collection that returns freed memory to the
    /// OS (<see cref="ServeCommand.Collect"/>) and waits for it; false for an external server,
    /// which has no garbage collector to ask, or when the server did not answer in time.
    /// </summary>
    public async Task<bool> CollectAsync(TimeSpan timeout)
    {
        if (Spec.Kind == ServerKind.External || _process.HasExited)
        {
            return false;
        }

        return await AskAsync(ServeCommand.CollectCommand, ref _collected, timeout) is not null;
    }

    private TaskCompletionSource<string>? _jit;

    /// <summary>
    /// What the JIT compiler of one of our servers has done so far (<see cref="ServeCommand.JitCommand"/>);
    /// null for an external server, which has none to ask, or when the server did not answer in time.
    /// </summary>
    public async Task<JitSample?> JitAsync(TimeSpan timeout)
    {
        if (Spec.Kind == ServerKind.External || _process.HasExited)
        {
            return null;
        }

        string[]? parts = (await AskAsync(ServeCommand.JitCommand, ref _jit, timeout))?.Split(' ');
        return parts is { Length: 2 } &&
               long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long methods) &&
               double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds)
            ? new JitSample(methods, TimeSpan.FromMilliseconds(milliseconds))
            : null;
    }

    /// <summary>Writes <paramref name="command"/> to the server's standard input and waits for the
    /// reply the stdout reader hands to <paramref name="pending"/>; null when none came in time.</summary>
    private Task<string?> AskAsync(string command, ref TaskCompletionSource<string>? pending, TimeSpan timeout)
    {
        var reply = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref pending, reply);
        return WaitForReplyAsync(command, reply.Task, timeout);
    }

    private async Task<string?> WaitForReplyAsync(string command, Task<string> reply, TimeSpan timeout)
    {
        try
        {
            await _process.StandardInput.WriteLineAsync(command);
            await _process.StandardInput.FlushAsync();
            return await reply.WaitAsync(timeout);
        }
        catch (Exception e) when (e is TimeoutException or IOException)
        {
            return null;
        }
    }

    /// <summary>A loopback port nothing listens on right now (bound, then released).</summary>
    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // already gone, or not ours to wait for any more
        }

        _process.Dispose();
    }
}

/// <summary>A server's JIT compiler so far: methods compiled and the time it spent on them.</summary>
internal readonly record struct JitSample(long Methods, TimeSpan CompilationTime);
