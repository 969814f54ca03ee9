using System.Threading;
using System.Threading.Tasks;
using Proactor.Bench.Cli;
using Spectre.Console;

namespace Proactor.Bench.Idle;

internal static class IdleCommand
{
    public static Task<int> RunAsync(IdleSettings settings, IAnsiConsole console, CancellationToken cancellationToken) => Task.FromResult(0);
}
