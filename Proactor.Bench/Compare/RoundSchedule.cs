using System.Collections.Generic;

namespace Proactor.Bench.Compare;

/// <summary>
/// The order servers are measured in: round by round, every server once per round
/// (A B C A B C ...). A drift of the machine (a build finishing, another job starting, the CPU
/// warming up) then lands on every server alike instead of on whichever came first or last.
/// </summary>
internal static class RoundSchedule
{
    public static IEnumerable<(int Round, T Server)> Order<T>(IReadOnlyList<T> servers, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            foreach (T server in servers)
            {
                yield return (round, server);
            }
        }
    }
}
