using System;
using System.Runtime.CompilerServices;
using System.Runtime.Versioning;
using BenchmarkDotNet.Attributes;
using Proactor.Linux;

namespace Proactor.Bench.Micro;

/// <summary>
/// The emulated engine is generic over a struct demultiplexer
/// (<c>EmulatedEngine&lt;TDemux&gt; where TDemux : struct, IDemultiplexer</c>), so the JIT compiles
/// one loop per demultiplexer and calls it directly. This measures that claim: the same calls
/// made on the concrete struct (the baseline), through the generic struct parameter as the engine
/// makes them, and through the interface (a virtual call, for contrast). <c>SetInterest</c> on
/// edge-triggered epoll does nothing, so its figures are the dispatch alone; <c>Wait</c> with a
/// zero timeout is a real epoll_wait, the cost the dispatch sits beside.
/// </summary>
[MemoryDiagnoser]
[SupportedOSPlatform("linux")]
public class DemultiplexerDispatchBenchmarks
{
    private const int Calls = 1024;

    private EpollDemultiplexer _demux;
    private DirectCaller _direct = null!;
    private GenericCaller<EpollDemultiplexer> _generic = null!;
    private InterfaceCaller _interface = null!;

    [GlobalSetup]
    public void Setup()
    {
        _demux = new EpollDemultiplexer(64);
        _direct = new DirectCaller { Demux = _demux };
        _generic = new GenericCaller<EpollDemultiplexer> { Demux = _demux };
        _interface = new InterfaceCaller { Demux = _demux };
    }

    [GlobalCleanup]
    public void Cleanup() => _demux.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public int SetInterestDirect() => _direct.SetInterest(Calls);

    [Benchmark(OperationsPerInvoke = Calls)]
    public int SetInterestGenericStruct() => _generic.SetInterest(Calls);

    [Benchmark(OperationsPerInvoke = Calls)]
    public int SetInterestInterface() => _interface.SetInterest(Calls);

    [Benchmark(OperationsPerInvoke = Calls / 16)]
    public int WaitDirect() => _direct.Wait(Calls / 16);

    [Benchmark(OperationsPerInvoke = Calls / 16)]
    public int WaitGenericStruct() => _generic.Wait(Calls / 16);

    [Benchmark(OperationsPerInvoke = Calls / 16)]
    public int WaitInterface() => _interface.Wait(Calls / 16);

    // The loops are not inlined into the benchmark methods, like the engine's loop, so each is
    // compiled once for its receiver type and nothing is hoisted across the boundary.

    private sealed class DirectCaller
    {
        public EpollDemultiplexer Demux;
        private readonly ReadyEvent[] _events = new ReadyEvent[16];

        [MethodImpl(MethodImplOptions.NoInlining)]
        public int SetInterest(int calls)
        {
            int tracked = 0;
            for (int i = 0; i < calls; i++)
            {
                Demux.SetInterest(3, (ulong)i, Interest.Read, Interest.Read);
                if (EpollDemultiplexer.TracksInterest)
                {
                    tracked++;
                }
            }

            return tracked;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public int Wait(int calls)
        {
            int n = 0;
            for (int i = 0; i < calls; i++)
            {
                n += Demux.Wait(_events, 0);
            }

            return n;
        }
    }

    private sealed class GenericCaller<TDemux> where TDemux : struct, IDemultiplexer
    {
        public TDemux Demux;
        private readonly ReadyEvent[] _events = new ReadyEvent[16];

        [MethodImpl(MethodImplOptions.NoInlining)]
        public int SetInterest(int calls)
        {
            int tracked = 0;
            for (int i = 0; i < calls; i++)
            {
                Demux.SetInterest(3, (ulong)i, Interest.Read, Interest.Read);
                if (TDemux.TracksInterest)
                {
                    tracked++;
                }
            }

            return tracked;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public int Wait(int calls)
        {
            int n = 0;
            for (int i = 0; i < calls; i++)
            {
                n += Demux.Wait(_events, 0);
            }

            return n;
        }
    }

    private sealed class InterfaceCaller
    {
        public IDemultiplexer Demux = null!; // boxed once, in Setup
        private readonly ReadyEvent[] _events = new ReadyEvent[16];

        [MethodImpl(MethodImplOptions.NoInlining)]
        public int SetInterest(int calls)
        {
            int tracked = 0;
            for (int i = 0; i < calls; i++)
            {
                Demux.SetInterest(3, (ulong)i, Interest.Read, Interest.Read);
                tracked++;
            }

            return tracked;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public int Wait(int calls)
        {
            int n = 0;
            for (int i = 0; i < calls; i++)
            {
                n += Demux.Wait(_events, 0);
            }

            return n;
        }
    }
}
