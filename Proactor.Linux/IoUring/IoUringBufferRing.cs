using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;

namespace Proactor.Linux;

/// <summary>
/// The engine's provided buffer ring (IORING_REGISTER_PBUF_RING, Linux 5.19): buffers the kernel
/// picks from when a multishot receive has data, one per CQE. Shared by every socket of the
/// engine: a buffer is copied out and handed back while its CQE is reaped, so no socket, idle or
/// busy, keeps one, and the ring's size bounds only how much the kernel may fill between two reaps.
/// </summary>
/// <remarks>Ring thread only: it is the ring's single producer (buffers returned) and the only
/// reader of the CQEs that name them.</remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class IoUringBufferRing : IDisposable
{
    /// <summary>The buffer group id the multishot receives select from.</summary>
    public const ushort GroupId = 0;

    private readonly Interop.IoUringBuf* _ring;
    private readonly byte* _buffers;
    private readonly ushort _mask;
    private ushort _tail;
    private bool _freed;

    private IoUringBufferRing(int entries, int bufferSize)
    {
        Entries = entries;
        BufferSize = bufferSize;
        _mask = (ushort)(entries - 1);
        _ring = (Interop.IoUringBuf*)NativeMemory.AlignedAlloc((nuint)(entries * sizeof(Interop.IoUringBuf)), 4096);
        NativeMemory.Clear(_ring, (nuint)(entries * sizeof(Interop.IoUringBuf)));
        _buffers = (byte*)NativeMemory.AlignedAlloc((nuint)entries * (nuint)bufferSize, 4096);
    }

    public int Entries { get; }

    public int BufferSize { get; }

    /// <summary>Registers a ring of <paramref name="entries"/> (a power of two) buffers of
    /// <paramref name="bufferSize"/> bytes with the ring <paramref name="ringFd"/>, filled. Returns
    /// 0 or the errno of the refusal (EINVAL before Linux 5.19).</summary>
    public static int TryCreate(int ringFd, int entries, int bufferSize, out IoUringBufferRing? bufferRing)
    {
        var created = new IoUringBufferRing(entries, bufferSize);
        Interop.IoUringBufReg reg = default;
        reg.RingAddr = (ulong)created._ring;
        reg.RingEntries = (uint)entries;
        reg.Bgid = GroupId;
        if (Interop.Sys.IoUringRegister(ringFd, Interop.Sys.IORING_REGISTER_PBUF_RING, &reg, 1) < 0)
        {
            int errno = Interop.Errno.Last;
            created.Dispose();
            bufferRing = null;
            return errno;
        }

        for (int i = 0; i < entries; i++)
        {
            created.Add((ushort)i);
        }

        created.Publish();
        bufferRing = created;
        return 0;
    }

    /// <summary>The bytes of buffer <paramref name="bid"/>.</summary>
    public ReadOnlySpan<byte> Data(ushort bid, int length) =>
        new(_buffers + ((nint)bid * BufferSize), Math.Min(length, BufferSize));

    /// <summary>Hands buffer <paramref name="bid"/> back to the kernel at once.</summary>
    public void Return(ushort bid)
    {
        Add(bid);
        Publish();
    }

    private void Add(ushort bid)
    {
        Interop.IoUringBuf* entry = &_ring[_tail & _mask];
        entry->Addr = (ulong)(_buffers + ((nint)bid * BufferSize));
        entry->Len = (uint)BufferSize;
        entry->Bid = bid;
        _tail++;
    }

    // Release: the entries written above are visible before the tail that covers them.
    private void Publish() => Volatile.Write(ref *(ushort*)((byte*)_ring + 14), _tail);

    /// <summary>Frees the memory: before registration succeeded, or once the io_uring descriptor
    /// is closed and no request of it can still pick a buffer (the engine leaks it otherwise).</summary>
    public void Dispose()
    {
        if (_freed)
        {
            return;
        }

        _freed = true;
        NativeMemory.AlignedFree(_ring);
        NativeMemory.AlignedFree(_buffers);
    }
}
