using System.Runtime.InteropServices;

namespace Proactor.Linux;

internal static unsafe partial class Interop
{
    internal static partial class Sys
    {
        internal const int SCHED_OTHER = 0;
        internal const int SCHED_BATCH = 3;

        /// <summary>struct sched_param: only the static priority, 0 for SCHED_OTHER and SCHED_BATCH.</summary>
        internal struct SchedParam
        {
            public int Priority;
        }

        /// <summary>pid 0: the calling thread.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "sched_setscheduler", SetLastError = true)]
        internal static partial int SchedSetScheduler(int pid, int policy, SchedParam* param);

        [LibraryImport(Libraries.Libc, EntryPoint = "gettid")]
        internal static partial int GetTid();
    }
}
