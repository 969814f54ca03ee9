using System.Collections.Generic;
using System.Runtime.Versioning;
using NUnit.Framework;
using Proactor.Linux;

namespace Proactor.Tests.Linux;

/// <summary>What only the emulated engines have: their waker's descriptor after shutdown.</summary>
[TestFixture]
[Platform("Linux")]
[Category("Linux")]
[SupportedOSPlatform("linux")]
[NonParallelizable] // reuses descriptor numbers: no other test may open or close any meanwhile
public sealed unsafe class EmulatedEngineTests
{
    [TestCase(BackendKind.Epoll, false)]
    [TestCase(BackendKind.Epoll, true)]
    [TestCase(BackendKind.Poll, false)]
    [TestCase(BackendKind.Select, false)]
    public void A_wake_after_shutdown_never_writes_into_a_reused_descriptor(BackendKind backend, bool levelTriggered)
    {
        ProactorEngine engine = EngineFactory.Create(new EngineOptions { Backend = backend, EpollLevelTriggered = levelTriggered });
        int wakeFd = engine switch
        {
            EmulatedEngine<EpollDemultiplexer> e => e.WakeDescriptor,
            EmulatedEngine<EpollLevelDemultiplexer> e => e.WakeDescriptor,
            EmulatedEngine<PollDemultiplexer> e => e.WakeDescriptor,
            EmulatedEngine<SelectDemultiplexer> e => e.WakeDescriptor,
            _ => -1,
        };
        Assert.That(wakeFd, Is.GreaterThan(2));
        engine.Dispose();

        // Take descriptors until one gets the waker's old number (the kernel hands out the lowest free).
        var taken = new List<int>();
        int reused = -1;
        try
        {
            for (int i = 0; i < 64 && reused < 0; i++)
            {
                int fd = Interop.Sys.EventFd(0, Interop.Sys.EFD_NONBLOCK | Interop.Sys.EFD_CLOEXEC);
                Assert.That(fd, Is.GreaterThanOrEqualTo(0));
                taken.Add(fd);
                if (fd == wakeFd)
                {
                    reused = fd;
                }
            }

            Assume.That(reused, Is.GreaterThanOrEqualTo(0), "the waker's descriptor number was not reused here");

            // A timer scheduled or a cancel posted after Dispose wakes the (gone) loop.
            engine.WakeLoop();

            ulong value = 0;
            long read = Interop.Sys.Read(reused, &value, sizeof(ulong));
            Assert.That(read, Is.LessThan(0L), $"the disposed engine wrote {value} into a descriptor it no longer owns");
        }
        finally
        {
            foreach (int fd in taken)
            {
                Interop.Sys.Close(fd);
            }
        }
    }
}
