using System.Diagnostics;
using System.Threading;

namespace Proactor;

/// <summary>How an operation ended, as the metrics' <c>result</c> tag says it.</summary>
internal enum OperationResult
{
    Success,
    Cancelled,
    TimedOut,
    Aborted,
    Error,
}

/// <summary>
/// One engine's running totals behind the observable instruments of <see cref="ProactorMetrics"/>:
/// plain fields bumped on the hot path (no allocation, no tag arrays), read when a listener collects.
/// </summary>
internal sealed class EngineStatistics
{
    private static readonly int Kinds = ProactorMetrics.KindNames.Length;
    private static readonly int Results = ProactorMetrics.ResultNames.Length;

    private readonly long[] _started = new long[Kinds];
    private readonly long[] _completed = new long[Kinds * Results];
    private long _bytesReceived;
    private long _bytesSent;
    private long _accepted;
    private long _loopIterations;
    private long _handlerTicks;
    private long _fileSendCalls;

    public EngineStatistics(ProactorEngine engine) => Engine = engine;

    public ProactorEngine Engine { get; }

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public long Accepted => Interlocked.Read(ref _accepted);

    public long LoopIterations => Interlocked.Read(ref _loopIterations);

    public double HandlerSeconds => (double)Interlocked.Read(ref _handlerTicks) / Stopwatch.Frequency;

    /// <summary>sendfile(2) calls the engine made (or TransmitFile calls): proof a file went through the kernel.</summary>
    public long FileSendCalls => Interlocked.Read(ref _fileSendCalls);

    public void OnFileSendCall() => Interlocked.Increment(ref _fileSendCalls);

    public long Started(OperationKind kind) => Interlocked.Read(ref _started[(int)kind]);

    public long Completed(OperationKind kind, OperationResult result) =>
        Interlocked.Read(ref _completed[((int)kind * Results) + (int)result]);

    public long Pending(OperationKind kind)
    {
        long completed = 0;
        for (int r = 0; r < Results; r++)
        {
            completed += Completed(kind, (OperationResult)r);
        }

        return Started(kind) - completed;
    }

    public void OnStarted(OperationKind kind) => Interlocked.Increment(ref _started[(int)kind]);

    public void OnCompleted(OperationKind kind, OperationResult result, int bytes)
    {
        Interlocked.Increment(ref _completed[((int)kind * Results) + (int)result]);
        switch (kind)
        {
            case OperationKind.Receive when bytes > 0:
                Interlocked.Add(ref _bytesReceived, bytes);
                break;
            case OperationKind.Send when bytes > 0:
                Interlocked.Add(ref _bytesSent, bytes);
                break;
            case OperationKind.Accept when result == OperationResult.Success:
                Interlocked.Increment(ref _accepted);
                break;
        }
    }

    /// <summary>Loop thread only (one writer).</summary>
    public void OnLoopIteration() => Volatile.Write(ref _loopIterations, _loopIterations + 1);

    public void OnHandlerRan(long elapsedTicks) => Interlocked.Add(ref _handlerTicks, elapsedTicks);
}
