using System;

namespace Proactor.Bench.Os;

/// <summary>
/// Raises RLIMIT_NOFILE for this process so that 10 000 idle connections (plus the active ones
/// and the runtime's own descriptors) fit: the soft limit goes up to the hard one, and, where the
/// process may (root), the hard limit goes up too. Silent where it cannot: the measurement that
/// needs more descriptors then fails with EMFILE and says so.
/// </summary>
internal static unsafe class DescriptorLimit
{
    public static long? Raise(ulong wanted = 65536)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            Interop.RLimit limit;
            if (Interop.GetRLimit(Interop.RLIMIT_NOFILE, &limit) != 0)
            {
                return null;
            }

            if (limit.Current >= wanted)
            {
                return (long)Math.Min(limit.Current, long.MaxValue);
            }

            Interop.RLimit raised = new()
            {
                Current = Math.Max(wanted, limit.Current),
                Maximum = Math.Max(wanted, limit.Maximum),
            };
            if (Interop.SetRLimit(Interop.RLIMIT_NOFILE, &raised) != 0)
            {
                // Not privileged: the hard limit stays; take all of it.
                raised = new Interop.RLimit { Current = limit.Maximum, Maximum = limit.Maximum };
                Interop.SetRLimit(Interop.RLIMIT_NOFILE, &raised);
            }

            Interop.GetRLimit(Interop.RLIMIT_NOFILE, &limit);
            return (long)Math.Min(limit.Current, long.MaxValue);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }
}
