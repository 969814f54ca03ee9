namespace Proactor;

/// <summary>
/// The operations of one socket in one direction, first in first out: the one queue every
/// backend keeps per direction (the emulated proactor's waiting operations, the native proactors'
/// operations behind the one in the kernel's hands), like <c>OperationQueue&lt;T&gt;</c> in the
/// runtime's <c>SocketAsyncContext.Unix.cs</c>. What differs per backend lives in the operation.
/// </summary>
/// <remarks>
/// Intrusive (linked through <see cref="Operation.QueueNext"/>), so queueing allocates nothing,
/// and not thread-safe: the owner holds its own lock around every call, which lets it make
/// "try, or queue" and "dequeue, then complete" atomic with whatever else it guards.
/// An operation is in at most one queue at a time.
/// </remarks>
internal struct OperationFifo<T> where T : Operation
{
    private T? _head;
    private T? _tail;

    /// <summary>The oldest operation, or null when the queue is empty.</summary>
    public readonly T? Head => _head;

    public readonly bool IsEmpty => _head is null;

    public void Append(T op)
    {
        op.QueueNext = null;
        if (_tail is null)
        {
            _head = op;
        }
        else
        {
            _tail.QueueNext = op;
        }

        _tail = op;
    }

    /// <summary>Removes and returns the head (which must exist).</summary>
    public T RemoveHead()
    {
        T head = _head!;
        _head = (T?)head.QueueNext;
        if (_head is null)
        {
            _tail = null;
        }

        head.QueueNext = null;
        return head;
    }

    /// <summary>
    /// Takes <paramref name="op"/> out of the queue if it is there. With
    /// <paramref name="exceptHead"/>, the head is left alone (a native proactor's head is in the
    /// kernel's hands: only the kernel's completion may end it).
    /// </summary>
    public bool TryRemove(T op, bool exceptHead = false)
    {
        T? previous = null;
        for (T? cur = _head; cur is not null; previous = cur, cur = (T?)cur.QueueNext)
        {
            if (cur != op)
            {
                continue;
            }

            if (previous is null)
            {
                if (exceptHead)
                {
                    return false;
                }

                _head = (T?)cur.QueueNext;
            }
            else
            {
                previous.QueueNext = cur.QueueNext;
            }

            if (_tail == cur)
            {
                _tail = previous;
            }

            cur.QueueNext = null;
            return true;
        }

        return false;
    }

    /// <summary>Empties the queue; returns its operations as a chain through
    /// <see cref="Operation.QueueNext"/>, oldest first.</summary>
    public T? TakeAll()
    {
        T? all = _head;
        _head = null;
        _tail = null;
        return all;
    }
}
