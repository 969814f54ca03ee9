using System.Threading;

namespace Proactor;

/// <summary>
/// Spare operation objects of one socket and direction, for when several operations overlap.
/// Bounded: past <see cref="Capacity"/> spares a returned object is left to the GC, so a burst
/// does not pin memory for the socket's lifetime.
/// </summary>
internal sealed class OperationStack
{
    public const int Capacity = 64;

    private readonly Lock _lock = new();
    private readonly Operation?[] _items = new Operation?[Capacity];
    private int _count;

    public Operation? TryPop()
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

    public void TryPush(Operation operation)
    {
        lock (_lock)
        {
            if (_count < Capacity)
            {
                _items[_count++] = operation;
            }
        }
    }
}
