using System;
using System.Globalization;
using System.IO;

namespace Proactor.Bench.Os;

/// <summary>Resident memory (RSS) of another process, from <c>/proc/&lt;pid&gt;/status</c>; null elsewhere.</summary>
internal static class ProcessMemory
{
    public static long? ReadRss(int pid)
    {
        try
        {
            return ParseVmRss(File.ReadAllText($"/proc/{pid}/status"));
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The <c>VmRSS:   12345 kB</c> line of /proc/&lt;pid&gt;/status, in bytes.</summary>
    public static long? ParseVmRss(string status)
    {
        foreach (string line in status.Split('\n'))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                continue;
            }

            string[] f = line["VmRSS:".Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return f.Length == 2 && f[1] == "kB" && long.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb)
                ? kb * 1024
                : null;
        }

        return null;
    }
}
