namespace Proactor;

/// <summary>How an engine runs the continuation of an awaited operation once it completes.</summary>
public enum CompletionDispatch
{
    /// <summary>Continuations are queued to the .NET thread pool, so a slow handler never stalls
    /// the engine's I/O thread. The default.</summary>
    ThreadPool,

    /// <summary>Continuations run on the engine's loop or completion-port thread. Lowest latency;
    /// a handler that blocks stalls every socket of the engine (the engine counts and reports
    /// handlers that hold the thread longer than <see cref="EngineOptions.InlineHandlerWarningThreshold"/>).</summary>
    Inline,

    /// <summary>No awaits: every completion is posted to <see cref="ProactorEngine.Completions"/>, and
    /// operations are submitted there. The awaitable methods of the engine's sockets throw.</summary>
    Queue,
}
