using System;
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

    /// <summary>
    /// The cells of one round in the order they are measured: workload by workload, each on every
    /// server that runs it, back to back (w1: A B C, w2: A B C, ...), so the servers a ratio
    /// compares are measured seconds apart, not a whole round's servers apart. This machine's
    /// speed moves in spells of tens of seconds, longer than one measurement and shorter than a
    /// round.
    /// </summary>
    public static IEnumerable<(TWorkload Workload, TServer Server)> Cells<TServer, TWorkload>(
        IReadOnlyList<TServer> servers, IReadOnlyList<TWorkload> workloads, Func<TServer, TWorkload, bool> runs)
    {
        foreach (TWorkload workload in workloads)
        {
            foreach (TServer server in servers)
            {
                if (runs(server, workload))
                {
                    yield return (workload, server);
                }
            }
        }
    }
}
