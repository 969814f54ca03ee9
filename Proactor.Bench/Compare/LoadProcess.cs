using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Load;
using Proactor.Bench.Os;
using Proactor.Bench.Reports;

namespace Proactor.Bench.Compare;

/// <summary>The load generator's process (this program's hidden <c>loadgen</c> command), fed one
/// request per line on its standard input.</summary>
internal sealed class LoadProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly (int[]? Cpus, int Loops, string Backend) _setup;
    private readonly ConcurrentQueue<string> _stderr = new();

    private LoadProcess(Process process, (int[]? Cpus, int Loops, string Backend) setup)
    {
        _process = process;
        _setup = setup;
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

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the load generator pinned to <paramref name="cpus"/>, with <paramref name="loops"/>
    /// event loops of <paramref name="backend"/>.</summary>
    public static LoadProcess Start(int[]? cpus, int loops, string backend) =>
        new(CpuAffinity.Start(SelfLauncher.Create(["loadgen", "--loops", loops.ToString(System.Globalization.CultureInfo.InvariantCulture), "--backend", backend]), cpus),
            (cpus, loops, backend));

    /// <summary>Starts a new load generator like this one (to replace it after a failure).</summary>
    public LoadProcess StartAnother() => Start(_setup.Cpus, _setup.Loops, _setup.Backend);

    /// <summary>Runs one measurement. Throws <see cref="TimeoutException"/> when no answer comes
    /// within <paramref name="timeout"/> (the caller then replaces the process).</summary>
    public async Task<LoadResult> RunAsync(LoadRequest request, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(request, BenchJson.Default.LoadRequest).AsMemory(), cts.Token);
            await _process.StandardInput.FlushAsync(cts.Token);
            while (true)
            {
                string? line = await _process.StandardOutput.ReadLineAsync(cts.Token);
                if (line is null)
                {
                    throw new InvalidOperationException($"the load generator exited: {string.Join(" | ", _stderr.TakeLast(3))}");
                }

                if (line.StartsWith(LoadGenCommand.ResultPrefix, StringComparison.Ordinal))
                {
                    return JsonSerializer.Deserialize(line.AsSpan(LoadGenCommand.ResultPrefix.Length), BenchJson.Default.LoadResult)
                        ?? throw new InvalidOperationException("the load generator sent an empty result");
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the load generator did not answer within {timeout.TotalSeconds:0} s");
        }
        catch (System.IO.IOException e)
        {
            throw new InvalidOperationException($"the load generator is gone: {e.Message} {string.Join(" | ", _stderr.TakeLast(3))}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close(); // end of requests: it exits by itself
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(3));
        }
        catch (Exception)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception)
            {
                // gone
            }
        }

        _process.Dispose();
    }
}
