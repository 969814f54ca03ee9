using System.Threading;

namespace Proactor.Bench.Servers;

/// <summary>
/// An echo handler that sometimes blocks: after every <c>N</c>th message the server receives
/// (counted over all its connections) the handler holds its thread for a fixed time before it
/// sends, as a handler that makes a synchronous call (a file read, a database query, <c>.Result</c>
/// on a task) does. It shows what a dispatch policy does with such a handler: with continuations
/// on the thread pool the other connections go on while one thread waits; on an inline loop every
/// connection of that loop waits with it.
/// </summary>
internal sealed class BlockingHandler
{
    private readonly int _every;
    private readonly int _milliseconds;
    private long _messages;
    private long _blocks;

    public BlockingHandler(int every, int milliseconds)
    {
        _every = every;
        _milliseconds = milliseconds;
    }

    /// <summary>How many times a handler has blocked so far.</summary>
    public long Blocks => Interlocked.Read(ref _blocks);

    /// <summary>Counts one received message; blocks the calling thread when it is the Nth.</summary>
    public void OnMessage()
    {
        if (Interlocked.Increment(ref _messages) % _every == 0)
        {
            Interlocked.Increment(ref _blocks);
            Thread.Sleep(_milliseconds);
        }
    }

    /// <summary>For the server's "listening" line.</summary>
    public override string ToString() => $"a handler blocks {_milliseconds} ms every {_every} messages";
}
