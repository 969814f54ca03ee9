using System;
using System.Linq;

namespace Proactor.Bench.Cli;

/// <summary>Parses backend and dispatch names as users type them: any case, with or without
/// '-'/'_' (<c>io_uring</c>, <c>iouring</c>), plus <c>epoll-et</c>/<c>epoll-lt</c> for the two epoll modes.</summary>
internal static class BackendNames
{
    public static (BackendKind Backend, bool LevelTriggered) ParseBackend(string text)
    {
        string n = Normalize(text);
        switch (n)
        {
            case "epollet":
                return (BackendKind.Epoll, false);
            case "epolllt":
                return (BackendKind.Epoll, true);
        }

        foreach (BackendKind kind in Enum.GetValues<BackendKind>())
        {
            if (Normalize(kind.ToString()) == n)
            {
                return (kind, false);
            }
        }

        string known = string.Join(", ", Enum.GetValues<BackendKind>().Select(k => k.ToString().ToLowerInvariant()));
        throw new UsageException($"unknown backend '{text}'; known backends: {known}, epoll-et, epoll-lt.");
    }

    public static CompletionDispatch ParseDispatch(string text)
    {
        string n = Normalize(text);
        if (n == "pool")
        {
            return CompletionDispatch.ThreadPool;
        }

        foreach (CompletionDispatch d in Enum.GetValues<CompletionDispatch>())
        {
            if (Normalize(d.ToString()) == n)
            {
                return d;
            }
        }

        string known = string.Join(", ", Enum.GetValues<CompletionDispatch>().Select(k => k.ToString().ToLowerInvariant()));
        throw new UsageException($"unknown completion dispatch '{text}'; known: {known}.");
    }

    private static string Normalize(string text) =>
        new string(text.Where(c => c is not ('-' or '_' or ' ')).ToArray()).ToLowerInvariant();
}
