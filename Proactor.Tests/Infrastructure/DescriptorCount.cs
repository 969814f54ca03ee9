using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Proactor.Tests.Infrastructure;

/// <summary>
/// The descriptors an engine can leak: sockets and the kernel objects backends create (epoll
/// instances, eventfds, io_uring rings). Plain files are left out: the runtime opens symbol files
/// lazily the first time it formats a stack trace, which is no leak of ours. On Windows, where
/// there is no /proc, the same kinds are found by handle type: sockets and completion ports.
/// </summary>
internal static partial class DescriptorCount
{
    public static IReadOnlyDictionary<string, string> Snapshot()
    {
        var result = new Dictionary<string, string>();
        if (OperatingSystem.IsWindows())
        {
            WindowsHandles.Snapshot(result);
            return result;
        }

        if (!OperatingSystem.IsLinux())
        {
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

    /// <summary>
    /// The Windows branch. The process handle count cannot stand in: it counts every kernel object
    /// (thread handles the runtime closes only on finalization, events, registry keys), and under
    /// Wine it reports the handle table's capacity (256, 512, ...), not its use. So, like the
    /// Linux branch, this lists only what an engine can leak: socket handles and completion ports.
    /// Handle values are small multiples of 4, handed out lowest-free-first; every value up to a
    /// bound well past the process's handle count is asked for its object type.
    /// </summary>
    [SupportedOSPlatform("windows")]
    private static unsafe partial class WindowsHandles
    {
        private const int ObjectTypeInformation = 2;
        private const int SOL_SOCKET = 0xFFFF;
        private const int SO_TYPE = 0x1008;

        public static void Snapshot(Dictionary<string, string> result)
        {
            int handleCount;
            using (var process = Process.GetCurrentProcess())
            {
                handleCount = process.HandleCount;
            }

            long limit = Math.Max(8192L, handleCount * 16L);
            const int Capacity = 1024;
            byte* info = stackalloc byte[Capacity];
            for (long value = 4; value <= limit; value += 4)
            {
                nint handle = (nint)value;
                uint length;
                if (NtQueryObject(handle, ObjectTypeInformation, info, Capacity, &length) != 0)
                {
                    continue; // not a handle (or not ours to ask)
                }

                // PUBLIC_OBJECT_TYPE_INFORMATION begins with the UNICODE_STRING TypeName.
                int nameBytes = *(ushort*)info;
                string type = new((char*)*(nint*)(info + 8), 0, nameBytes / 2);
                string key = value.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
                if (type == "IoCompletion")
                {
                    result[key] = "completion port";
                }
                else if (type is "File" or "Socket" && IsSocket(handle))
                {
                    result[key] = "socket";
                }
            }
        }

        private static bool IsSocket(nint handle)
        {
            int type;
            int length = sizeof(int);
            return getsockopt(handle, SOL_SOCKET, SO_TYPE, &type, &length) == 0;
        }

        [LibraryImport("ntdll.dll")]
        private static partial int NtQueryObject(nint Handle, int ObjectInformationClass, void* ObjectInformation, uint ObjectInformationLength, uint* ReturnLength);

        [LibraryImport("ws2_32.dll")]
        private static partial int getsockopt(nint s, int level, int optname, void* optval, int* optlen);
    }
}
