using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace Proactor.Tests.Infrastructure;

/// <summary>
/// The descriptors an engine can leak: sockets and the kernel objects backends create (epoll
/// instances, eventfds, io_uring rings). Plain files are left out: the runtime opens symbol files
/// lazily the first time it formats a stack trace, which is no leak of ours. On Windows, where
/// there is no /proc, the process handle count stands in.
/// </summary>
internal static class DescriptorCount
{
    public static IReadOnlyDictionary<string, string> Snapshot()
    {
        var result = new Dictionary<string, string>();
        if (!OperatingSystem.IsLinux())
        {
            using var process = Process.GetCurrentProcess();
            for (int i = 0; i < process.HandleCount; i++)
            {
                result[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = "handle";
            }

            return result;
        }

        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed while we looked
            }

            if (target is not null && (target.StartsWith("socket:", StringComparison.Ordinal) || target.StartsWith("anon_inode:", StringComparison.Ordinal)))
            {
                result[Path.GetFileName(fd)] = target;
            }
        }

        return result;
    }

    /// <summary>Descriptors in <paramref name="after"/> that were not in <paramref name="before"/>, described.</summary>
    public static string Describe(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after) =>
        string.Join(", ", after.Where(kv => !before.TryGetValue(kv.Key, out string? t) || t != kv.Value).Select(kv => $"fd {kv.Key} -> {kv.Value}"));
}
