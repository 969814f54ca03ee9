using System;
using System.Collections.Concurrent;
using System.Threading;

namespace Proactor;

/// <summary>
/// Work posted to an engine's loop thread from any thread (a cancel, a close, a completion the
/// runtime returned on its own thread), run by the loop at the end of an iteration: the one way
/// another thread gets something done by an emulated or managed engine.
/// </summary>
/// <remarks>
/// Once the loop has exited (engine disposed) there is no engine thread left to run it: the
/// poster runs its work itself. The loop sets the exit flag before its last drain, and a poster
/// reads it (with a full fence) after its enqueue, so every item is run by one side or the other,
/// once.
/// </remarks>
internal sealed class PostedWork
{
    private readonly ConcurrentQueue<(Action<object?> Action, object? State)> _items = new();
    private int _loopExited;

    /// <summary>Nothing waits to run (the loop looks once more before it blocks).</summary>
    public bool IsEmpty => _items.IsEmpty;

    /// <summary>Queues the work for the loop. False when the loop has exited and the work has run
    /// here already: there is no loop to wake.</summary>
    public bool Post(Action<object?> action, object? state)
    {
        _items.Enqueue((action, state));
        if (Interlocked.CompareExchange(ref _loopExited, 0, 0) != 0)
        {
            RunAll();
            return false;
        }

        return true;
    }

    /// <summary>Runs what is queued, in order, until the queue is empty.</summary>
    public void RunAll()
    {
        while (_items.TryDequeue(out var work))
        {
            work.Action(work.State);
        }
    }

    /// <summary>The loop's last step: from now on posters run their own work; then runs what is left.</summary>
    public void CloseAndRunAll()
    {
        Interlocked.Exchange(ref _loopExited, 1);
        RunAll();
    }
}
