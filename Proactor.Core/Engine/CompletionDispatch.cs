namespace Proactor;

/// <summary>How an engine runs the continuation of an awaited operation once it completes.</summary>
public enum CompletionDispatch
{
    /// <summary>Continuations run on the .NET thread pool, so a slow handler never stalls the
    /// engine's I/O thread. The default. What one iteration of the engine's loop completes is
    /// handed to the pool as one work item whose thread runs the continuations one after another
    /// (a continuation that blocks does not hold up the others: they move to another pool thread).
    /// A continuation that captured a <see cref="System.Threading.SynchronizationContext"/> or
    /// <see cref="System.Threading.Tasks.TaskScheduler"/> is posted there.</summary>
    ThreadPool,

    /// <summary>Continuations run on the engine's loop or completion-port thread. Lowest latency;
    /// a handler that blocks stalls every socket of the engine (the engine counts and reports
    /// handlers that hold the thread longer than <see cref="EngineOptions.InlineHandlerWarningThreshold"/>).</summary>
    Inline,

    /// <summary>No awaits: every completion is posted to <see cref="ProactorEngine.Completions"/>, and
    /// operations are submitted there. The awaitable methods of the engine's sockets throw.</summary>
    Queue,
}
