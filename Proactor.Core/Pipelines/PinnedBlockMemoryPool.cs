using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Threading;

namespace Proactor.Pipelines;

/// <summary>
/// A <see cref="MemoryPool{T}"/> of fixed-size blocks allocated on the pinned object heap, as
/// Kestrel's own pool is: the kernel (io_uring, IOCP) may write into a block while a receive is in
/// flight, so a block must never move, and pinning each buffer per operation would cost a
/// <see cref="System.Runtime.InteropServices.GCHandle"/> every time. Renting and returning a block
/// allocate nothing once the pool has warmed up.
/// </summary>
/// <remarks>
/// A request larger than <see cref="BlockSize"/> gets an unpooled array (as
/// <see cref="MemoryPool{T}.Shared"/> would); pipes ask for at most one block per segment. At most
/// <see cref="MaxRetainedBlocks"/> returned blocks are kept; the rest are left to the GC, so a burst
/// (a large upload) does not pin its peak for the life of the process.
/// </remarks>
public sealed class PinnedBlockMemoryPool : MemoryPool<byte>
{
    /// <summary>The size of every pooled block: a page, the unit Kestrel's pool uses too.</summary>
    public const int BlockSize = 4096;

    private readonly ConcurrentQueue<Block> _blocks = new();
    private int _retained;
    private int _rented;
    private int _disposed;

    /// <summary>Creates an empty pool.</summary>
    /// <param name="maxRetainedBlocks">How many returned blocks the pool keeps for reuse (default 16384: 64 MiB).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRetainedBlocks"/> is negative.</exception>
    public PinnedBlockMemoryPool(int maxRetainedBlocks = 16384)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBlocks);
        MaxRetainedBlocks = maxRetainedBlocks;
    }

    /// <summary>The most returned blocks the pool keeps.</summary>
    public int MaxRetainedBlocks { get; }

    /// <summary>How many returned blocks the pool holds now, ready to rent.</summary>
    public int RetainedBlocks => Volatile.Read(ref _retained);

    /// <summary>Pooled blocks rented and not yet returned: what the connections on this pool hold now.</summary>
    public int RentedBlocks => Volatile.Read(ref _rented);

    /// <inheritdoc/>
    public override int MaxBufferSize => BlockSize;

    /// <summary>Rents a block of <see cref="BlockSize"/> bytes (or an unpooled buffer for a larger request).</summary>
    /// <param name="minBufferSize">The least size wanted; -1 (the default) means one block.</param>
    /// <returns>The owner of the memory; dispose it (once) to give the memory back.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minBufferSize"/> is less than -1.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed.</exception>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minBufferSize, -1);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (minBufferSize > BlockSize)
        {
            return new Block(null, GC.AllocateUninitializedArray<byte>(minBufferSize, pinned: true));
        }

        Interlocked.Increment(ref _rented);
        if (_blocks.TryDequeue(out Block? block))
        {
            Interlocked.Decrement(ref _retained);
            block.OnRented();
            return block;
        }

        return new Block(this, GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true));
    }

    private void Return(Block block)
    {
        Interlocked.Decrement(ref _rented);
        // After Dispose the blocks go to the GC: a pipe may still hand back what it rented before.
        if (Volatile.Read(ref _disposed) != 0 || Interlocked.Increment(ref _retained) > MaxRetainedBlocks)
        {
            if (Volatile.Read(ref _disposed) == 0)
            {
                Interlocked.Decrement(ref _retained);
            }

            return;
        }

        _blocks.Enqueue(block);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _blocks.Clear();
            Volatile.Write(ref _retained, 0);
        }
    }

    /// <summary>One pinned block; it is its own owner, so renting allocates no owner object.</summary>
    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly PinnedBlockMemoryPool? _pool;
        private readonly byte[] _array;
        private int _returned;

        public Block(PinnedBlockMemoryPool? pool, byte[] array)
        {
            _pool = pool;
            _array = array;
        }

        public Memory<byte> Memory
        {
            get
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _returned) != 0, this);
                return _array;
            }
        }

        public void OnRented() => Volatile.Write(ref _returned, 0);

        public void Dispose()
        {
            // A second Dispose must not put the block in the queue twice (two renters, one array).
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                _pool?.Return(this);
            }
        }
    }
}
