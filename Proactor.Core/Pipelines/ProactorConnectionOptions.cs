using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace Proactor.Pipelines;

/// <summary>How a <see cref="ProactorConnection"/> buffers and schedules: its pool, its
/// back-pressure thresholds and where pipe continuations run.</summary>
public sealed record ProactorConnectionOptions
{
    /// <summary>The pool receive buffers and written segments come from; null uses one shared
    /// <see cref="PinnedBlockMemoryPool"/> (the kernel may write a receive buffer while it is in
    /// flight, so the memory should be pinned).</summary>
    public MemoryPool<byte>? MemoryPool { get; init; }

    /// <summary>Received bytes the application has not consumed at which the connection stops
    /// receiving (back-pressure to the peer through TCP's window); 0 disables the limit. Default 1 MiB.</summary>
    public long InputPauseThreshold { get; init; } = 1024 * 1024;

    /// <summary>Unconsumed received bytes below which receiving resumes; default 512 KiB.</summary>
    public long InputResumeThreshold { get; init; } = 512 * 1024;

    /// <summary>Written bytes not yet sent at which the application's <c>FlushAsync</c> waits; 0
    /// disables the limit. Default 64 KiB.</summary>
    public long OutputPauseThreshold { get; init; } = 64 * 1024;

    /// <summary>Unsent bytes below which a waiting <c>FlushAsync</c> resumes; default 32 KiB.</summary>
    public long OutputResumeThreshold { get; init; } = 32 * 1024;

    /// <summary>Where the application's continuations run (its <c>ReadAsync</c> and a paused
    /// <c>FlushAsync</c>). Null (the default): on the thread pool, never on the engine's loop
    /// thread, whatever the engine's dispatch, in as few pool work items as the dispatch allows:
    /// with <see cref="CompletionDispatch.Inline"/> what one loop iteration received is handed to
    /// the pool as one work item at the iteration's end; with <see cref="CompletionDispatch.ThreadPool"/>
    /// the application runs on the pool thread that delivered the receive, with no second hop.
    /// A continuation may block either way (only its own pool thread waits). Any other scheduler
    /// is used as given, e.g. <see cref="PipeScheduler.ThreadPool"/> for one work item per
    /// continuation, or <see cref="PipeScheduler.Inline"/> to run the application wherever the
    /// transport resumes it (with inline dispatch: on the loop thread, where it must not block).</summary>
    public PipeScheduler? ApplicationScheduler { get; init; }

    /// <summary>Where the connection's own continuations run when the application resumes them: the
    /// send loop woken by a flush, the receive loop woken by a read that ends its pause. Null (the
    /// default) gives each connection one of a few shared I/O queues (one per processor, at most
    /// 16, as Kestrel's Sockets transport): the flushing thread only queues the send, so every
    /// flush made before the queue runs (a batch of pipelined responses) leaves in one gather send.
    /// <see cref="PipeScheduler.Inline"/> makes the flushing thread send at once: one send per
    /// flush, no thread-pool hop.</summary>
    public PipeScheduler? TransportScheduler { get; init; }

    /// <summary>While no data is pending, wait with a zero-byte receive before renting a buffer, so
    /// an idle connection holds no buffer (the default). False receives straight into a rented
    /// buffer, one syscall fewer per read at the cost of one block per idle connection.</summary>
    public bool WaitForDataBeforeAllocatingBuffer { get; init; } = true;

    /// <summary>Test and transport seam: the exception the input completes with when the peer reset
    /// the connection (the ASP.NET Core transport makes it a <c>ConnectionResetException</c>).</summary>
    internal Func<string, Exception, Exception>? CreateResetException { get; init; }

    /// <summary>Transport seam: the exception the input completes with after the connection was aborted.</summary>
    internal Func<string, Exception?, Exception>? CreateAbortedException { get; init; }

    /// <summary>The options every connection created without options uses.</summary>
    public static ProactorConnectionOptions Default { get; } = new();

    internal Exception ResetException(SocketException error) =>
        CreateResetException?.Invoke(error.Message, error) ?? new IOException($"The connection was reset by the peer: {error.Message}", error);

    internal Exception AbortedException(string message, Exception? inner) =>
        CreateAbortedException?.Invoke(message, inner) ?? new IOException(message, inner);

    internal void Validate()
    {
        Check(InputPauseThreshold, InputResumeThreshold, "Input");
        Check(OutputPauseThreshold, OutputResumeThreshold, "Output");

        static void Check(long pause, long resume, string direction)
        {
            if (pause < 0 || resume < 0 || (pause > 0 && resume > pause))
            {
                throw new ArgumentException(
                    $"{direction}ResumeThreshold ({resume}) must be between 0 and {direction}PauseThreshold ({pause}), and neither negative (0 pause: no limit).");
            }
        }
    }
}
