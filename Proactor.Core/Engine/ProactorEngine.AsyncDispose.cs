using System;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor;

public abstract partial class ProactorEngine : IAsyncDisposable
{
    /// <summary>
    /// Disposes the engine as <see cref="Dispose()"/> does, without holding the caller's thread (or a
    /// thread-pool thread) while the engine's threads are joined: the join runs on a thread of its own.
    /// </summary>
    /// <returns>A task that completes once the engine is disposed.</returns>
    /// <remarks>Called on one of the engine's own threads (an inline continuation), it disposes at
    /// once: that thread is not joined, it simply stops after the continuation returns.</remarks>
    public ValueTask DisposeAsync()
    {
        if (IsDisposed || IsEngineThread)
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        // LongRunning: a dedicated thread, so the (bounded) join never starves the pool that the
        // engine's own continuations may need to finish.
        return new ValueTask(Task.Factory.StartNew(
            static state => ((ProactorEngine)state!).Dispose(), this,
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
    }
}
