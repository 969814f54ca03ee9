using System;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// Maps the 64-bit key a demultiplexer reports back to its registered socket. A key is
/// (generation &lt;&lt; 32 | slot): a slot is reused after a close, but with a new generation, so a
/// stale event for a closed descriptor (whose number the OS may already have reused) finds nothing.
/// </summary>
internal sealed class SocketTable<T> where T : class
{
    private readonly Lock _lock = new();
    private T?[] _items = new T?[64];
    private uint[] _generations = new uint[64];
    private int[] _free = new int[64];
    private int _freeCount;
    private int _used;
    private int _count;

    /// <summary>Live registrations.</summary>
    public int Count => Volatile.Read(ref _count);

    public ulong Add(T item)
    {
        lock (_lock)
        {
            int slot;
            if (_freeCount > 0)
            {
                slot = _free[--_freeCount];
            }
            else
            {
                if (_used == _items.Length)
                {
                    Grow();
                }

                slot = _used++;
            }

            uint generation = ++_generations[slot];
            Volatile.Write(ref _items[slot], item);
            _count++;
            return ((ulong)generation << 32) | (uint)slot;
        }
    }

    public void Remove(ulong key)
    {
        lock (_lock)
        {
            int slot = (int)(uint)key;
            if ((uint)slot >= (uint)_used || _generations[slot] != (uint)(key >> 32) || _items[slot] is null)
            {
                return;
            }

            _items[slot] = null;
            _generations[slot]++;
            if (_freeCount == _free.Length)
            {
                Array.Resize(ref _free, _free.Length * 2);
            }

            _free[_freeCount++] = slot;
            _count--;
        }
    }

    /// <summary>Lock-free lookup for the loop thread. A lookup racing a removal may return the
    /// item being closed; closed sockets ignore readiness, so that is harmless.</summary>
    public T? Find(ulong key)
    {
        T?[] items = Volatile.Read(ref _items);
        uint[] generations = Volatile.Read(ref _generations);
        int slot = (int)(uint)key;
        if ((uint)slot >= (uint)items.Length || (uint)slot >= (uint)generations.Length ||
            Volatile.Read(ref generations[slot]) != (uint)(key >> 32))
        {
            return null;
        }

        return Volatile.Read(ref items[slot]);
    }

    /// <summary>Removes and returns every live item (engine shutdown).</summary>
    public T[] Drain()
    {
        lock (_lock)
        {
            var list = new System.Collections.Generic.List<T>(_count);
            for (int i = 0; i < _used; i++)
            {
                if (_items[i] is { } item)
                {
                    list.Add(item);
                    _items[i] = null;
                    _generations[i]++;
                }
            }

            _count = 0;
            _freeCount = 0;
            _used = 0;
            return list.ToArray();
        }
    }

    private void Grow()
    {
        // New arrays are published whole; the loop thread may keep reading the old ones meanwhile.
        var items = new T?[_items.Length * 2];
        var generations = new uint[_items.Length * 2];
        Array.Copy(_items, items, _items.Length);
        Array.Copy(_generations, generations, _generations.Length);
        Volatile.Write(ref _generations, generations);
        Volatile.Write(ref _items, items);
    }
}
