using System;
using System.Threading;

namespace Proactor;

/// <summary>
/// Idle operation objects kept for reuse, bounded. An engine keeps one for backends whose operations
/// may serve any socket of the engine (<see cref="EngineSocket.SharesOperations"/>): a socket then
/// holds an operation only while it is in flight, so an idle connection (one receive pending) costs
/// one operation object, not one per direction it ever used. Other backends' sockets keep one per
/// direction for the spares of overlapping operations.
/// </summary>
/// <remarks>
/// Bounded by the caller's capacity (twice the engine's open sockets: what per-socket caching kept at
/// most), so a steady state with every socket's operations idle at once still allocates nothing.
/// The bound is the capacity of the latest return, not the largest ever: once a burst of
/// connections has closed, the next return finding the pool over it lets the excess go. An object
/// kept here holds no socket (<see cref="Operation.Release"/> forgets its owner and a backend its
/// backend socket): a burst of closed connections is not kept alive with it. One lock: a rent or
/// return is two memory writes under it, far below the syscall each operation makes.
/// </remarks>
internal sealed class OperationPool
{
    /// <summary>Kept even for an engine with few sockets, so a burst of overlapping operations on one
    /// socket (queued sends) does not allocate each time.</summary>
    public const int MinimumCapacity = 64;

    private readonly Lock _lock = new();
    private Operation?[] _items = new Operation?[16];
    private int _count;

    /// <summary>Idle objects held now (tests and diagnostics).</summary>
    public int Count => Volatile.Read(ref _count);

    public Operation? TryRent()
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                return null;
            }

            Operation? op = _items[--_count];
            _items[_count] = null;
            return op;
        }
    }

    /// <summary>Keeps <paramref name="operation"/> for the next rent unless <paramref name="capacity"/>
    /// objects are idle already (then it is left to the GC).</summary>
    public void Return(Operation operation, int capacity)
    {
        capacity = Math.Max(capacity, MinimumCapacity);
        lock (_lock)
        {
            if (_count >= capacity)
            {
                Trim(capacity);
                return;
            }

            if (_count == _items.Length)
            {
                Array.Resize(ref _items, Math.Min(_items.Length * 2, capacity));
            }

            _items[_count++] = operation;
        }
    }

    /// <summary>Under the lock: the capacity fell (sockets closed since the objects came back), so
    /// the objects beyond it go to the GC, and the array shrinks with them. Each object is dropped
    /// once, so the work is paid for by the returns that brought them.</summary>
    private void Trim(int capacity)
    {
        while (_count > capacity)
        {
            _items[--_count] = null;
        }

        if (_items.Length > 2 * capacity)
        {
            Array.Resize(ref _items, capacity);
        }
    }
}
