using System.Runtime.InteropServices;

namespace Proactor.Bench;

/// <summary>The few Linux calls the runner makes itself: CPU affinity, the descriptor limit and
/// the clock tick of /proc figures. Blittable signatures only.</summary>
internal static unsafe partial class Interop
{
    private const string Libc = "libc";

    /// <summary>RLIMIT_NOFILE on Linux (all architectures .NET runs on).</summary>
    public const int RLIMIT_NOFILE = 7;

    /// <summary>_SC_CLK_TCK: the unit of utime/stime in /proc/&lt;pid&gt;/stat.</summary>
    public const int _SC_CLK_TCK = 2;

    /// <summary>cpu_set_t as glibc defines it: 1024 bits.</summary>
    public const int CpuSetBytes = 128;

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport(Libc, EntryPoint = "sched_getaffinity", SetLastError = true)]
    public static partial int SchedGetAffinity(int pid, nuint cpuSetSize, byte* mask);

    [LibraryImport(Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
    public static partial int SchedSetAffinity(int pid, nuint cpuSetSize, byte* mask);

    [LibraryImport(Libc, EntryPoint = "getrlimit", SetLastError = true)]
    public static partial int GetRLimit(int resource, RLimit* limit);

    [LibraryImport(Libc, EntryPoint = "setrlimit", SetLastError = true)]
    public static partial int SetRLimit(int resource, RLimit* limit);

    [LibraryImport(Libc, EntryPoint = "sysconf", SetLastError = true)]
    public static partial long SysConf(int name);
}
