using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor;

/// <summary>
/// Main + sub loops: N engines of one backend (default one per core), each with its own loop
/// thread. A group listener spreads accepted connections over the loops; a connection stays on
/// its loop for its whole life, so its completions always run on that loop.
/// </summary>
/// <remarks>
/// Create one with <c>EngineFactory.CreateGroup</c>, or from engines you made yourself.
/// Disposing the group disposes its engines.
/// </remarks>
public sealed class ProactorEngineGroup : IDisposable, IAsyncDisposable
{
    private readonly ProactorEngine[] _engines;
    private int _next = -1;
    private int _disposed;

    /// <summary>Groups <paramref name="engines"/> (at least one; the group owns them from now on).</summary>
    /// <exception cref="ArgumentException">The list is empty, has a null or repeats an engine.</exception>
    public ProactorEngineGroup(IEnumerable<ProactorEngine> engines)
    {
        ArgumentNullException.ThrowIfNull(engines);
        _engines = engines.ToArray();
        if (_engines.Length == 0 || _engines.Any(e => e is null) || _engines.Distinct().Count() != _engines.Length)
        {
            throw new ArgumentException("A group needs at least one engine, none null, none twice.", nameof(engines));
        }
    }

    /// <summary>The loops of the group; the first is the main loop.</summary>
    public IReadOnlyList<ProactorEngine> Engines => _engines;

    /// <summary>The next engine in turn (round robin).</summary>
    public ProactorEngine Next() => _engines[(int)((uint)Interlocked.Increment(ref _next) % (uint)_engines.Length)];

    /// <summary>The engine with the fewest open sockets (ties: the earliest).</summary>
    public ProactorEngine LeastLoaded()
    {
        ProactorEngine best = _engines[0];
        int bestCount = best.SocketCount;
        for (int i = 1; i < _engines.Length; i++)
        {
            int count = _engines[i].SocketCount;
            if (count < bestCount)
            {
                best = _engines[i];
                bestCount = count;
            }
        }

        return best;
    }

    /// <summary>Listens on <paramref name="localEndPoint"/>, spreading connections as <paramref name="distribution"/> says.</summary>
    /// <remarks>The listener keeps accepting until it is disposed: accept errors (out of descriptors or
    /// buffers, a connection reset in the backlog) are reported and retried after a short back-off,
    /// and with <see cref="AcceptDistribution.ReusePort"/> at most
    /// <see cref="GroupListener.AcceptedQueueLimit"/> connections are accepted ahead of the caller.
    /// See <see cref="GroupListener"/>.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="localEndPoint"/> is null.</exception>
    /// <exception cref="PlatformNotSupportedException"><see cref="AcceptDistribution.ReusePort"/> off Linux.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">The bind or listen failed.</exception>
    public GroupListener Listen(IPEndPoint localEndPoint, AcceptDistribution distribution = AcceptDistribution.RoundRobin, int backlog = 512)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return distribution switch
        {
            AcceptDistribution.RoundRobin => GroupListener.Distributing(this, localEndPoint, backlog, Next),
            AcceptDistribution.LeastLoaded => GroupListener.Distributing(this, localEndPoint, backlog, LeastLoaded),
            AcceptDistribution.ReusePort => GroupListener.PerLoop(this, localEndPoint, backlog),
            _ => throw new ArgumentOutOfRangeException(nameof(distribution), distribution, "Unknown accept distribution."),
        };
    }

    /// <summary>Disposes every engine of the group, as <see cref="Dispose"/> does, joining their
    /// threads on threads of their own (see <see cref="ProactorEngine.DisposeAsync"/>).</summary>
    /// <returns>A task that completes once every engine is disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var disposals = new Task[_engines.Length];
        for (int i = 0; i < disposals.Length; i++)
        {
            disposals[i] = _engines[i].DisposeAsync().AsTask();
        }

        await Task.WhenAll(disposals).ConfigureAwait(false);
    }

    /// <summary>Disposes every engine of the group.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (ProactorEngine engine in _engines)
        {
            engine.Dispose();
        }
    }
}
