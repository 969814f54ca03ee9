using System;
using System.Text.Json;
using System.Threading.Tasks;
using Proactor.Bench.Os;
using Proactor.Bench.Reports;

namespace Proactor.Bench.Load;

/// <summary>
/// The hidden <c>loadgen</c> command: the load generator's own process. It reads one JSON
/// <see cref="LoadRequest"/> per line from standard input, runs it, and answers with one line
/// <c>RESULT {json}</c>; it ends at the end of input. One process serves a whole comparison, so
/// every server meets the same, already warmed-up, client.
/// </summary>
internal static class LoadGenCommand
{
    public const string ResultPrefix = "RESULT ";

    public static async Task<int> RunAsync(int loops, string? backend)
    {
        DescriptorLimit.Raise();
        ProactorEngine[] engines = LoadGenerator.CreateEngines(loops, backend);
        string? line;
        while ((line = await Console.In.ReadLineAsync()) is not null)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            LoadResult result;
            try
            {
                LoadRequest request = JsonSerializer.Deserialize(line, BenchJson.Default.LoadRequest)
                    ?? throw new InvalidOperationException("empty request");
                result = await LoadGenerator.RunAsync(request, engines);
            }
            catch (Exception e)
            {
                result = new LoadResult { Fatal = $"load generator: {e.Message}" };
            }

            await Console.Out.WriteLineAsync(ResultPrefix + JsonSerializer.Serialize(result, BenchJson.Default.LoadResult));
            await Console.Out.FlushAsync();

            // The next measurement should not pay for this one's garbage (10 000 idle sockets).
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        foreach (ProactorEngine engine in engines)
        {
            engine.Dispose();
        }

        return 0;
    }
}
