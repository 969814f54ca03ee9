using System;
using System.Threading;
using NUnit.Framework;
using NUnit.Framework.Interfaces;

[assembly: Proactor.Tests.Infrastructure.HangWatchdog(seconds: 180)]

namespace Proactor.Tests.Infrastructure;

/// <summary>
/// The suite's default per-test time limit. On .NET, NUnit cannot abort a running test (its
/// Timeout attribute needs Thread.Abort), and a deadlocked engine would hang the run until CI's
/// own limit with no name attached. So a watchdog thread follows the current test; when one runs
/// past the limit it prints the test's name and ends the process, which <c>eng/test.sh</c> then
/// counts as a failed suite (no summary). The limit is far above any test's normal duration, so
/// a busy machine cannot trip it.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class HangWatchdogAttribute : Attribute, ITestAction
{
    private readonly TimeSpan _limit;
    private readonly Lock _lock = new();
    private string? _current;
    private long _startedAt;
    private Thread? _thread;

    public HangWatchdogAttribute(int seconds)
    {
        _limit = TimeSpan.FromSeconds(
            int.TryParse(Environment.GetEnvironmentVariable("PROACTOR_TEST_HANG_SECONDS"), out int s) && s > 0 ? s : seconds);
    }

    public ActionTargets Targets => ActionTargets.Test;

    public void BeforeTest(ITest test)
    {
        lock (_lock)
        {
            _current = test.FullName;
            _startedAt = Environment.TickCount64;
            if (_thread is null)
            {
                _thread = new Thread(Watch) { IsBackground = true, Name = "test-hang-watchdog" };
                _thread.Start();
            }
        }
    }

    public void AfterTest(ITest test)
    {
        lock (_lock)
        {
            _current = null;
        }

        if (TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed)
        {
            // The test platform names a failed test by its method only; a conformance test runs in
            // a dozen fixtures, so the full name (fixture included) goes into the log too, where
            // eng/test.sh repeats it above the closing line.
            TestContext.Progress.WriteLine($"!! failed in: {test.FullName}");
        }

        TraceDescriptors(test);
    }

    // PROACTOR_FD_TRACE=1 (Linux): names each test after which the process holds 10 or more
    // descriptors more than before it, to find the test that leaks them (select's FD_SETSIZE
    // makes later select tests fail when earlier ones leak).
    private static readonly bool s_traceDescriptors =
        OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("PROACTOR_FD_TRACE") == "1";

    private int _descriptors = -1;

    private void TraceDescriptors(ITest test)
    {
        if (!s_traceDescriptors)
        {
            return;
        }

        int now = System.IO.Directory.GetFiles("/proc/self/fd").Length;
        if (_descriptors >= 0 && now - _descriptors >= 10)
        {
            TestContext.Progress.WriteLine($"[fd-trace] +{now - _descriptors} descriptors after {test.FullName} (now {now})");
        }

        _descriptors = now;
    }

    private void Watch()
    {
        while (true)
        {
            Thread.Sleep(1000);
            string? hung = null;
            lock (_lock)
            {
                if (_current is not null && Environment.TickCount64 - _startedAt > (long)_limit.TotalMilliseconds)
                {
                    hung = _current;
                }
            }

            if (hung is not null)
            {
                string message = $"HANG: the test {hung} ran longer than {_limit.TotalSeconds:F0} s; ending the run.";
                Console.Out.WriteLine("!! " + message);
                Console.Out.Flush();
                Console.Error.WriteLine("!! " + message);
                Environment.FailFast(message);
            }
        }
    }
}
