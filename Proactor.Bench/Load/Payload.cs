using System;

namespace Proactor.Bench.Load;

/// <summary>
/// The bytes the load generator sends. Message <c>k</c> of connection <c>c</c> is slot
/// <c>(c + k) mod Slots</c> of one pseudo-random pattern, so every message differs from its
/// neighbours and from the other connections' current messages: a dropped, duplicated or reordered
/// message, a corrupted byte or bytes delivered to the wrong connection all show as a mismatch.
/// </summary>
internal sealed class Payload
{
    private const int PatternBudget = 16 * 1024 * 1024;
    private readonly byte[] _pattern;

    public Payload(int messageSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(messageSize, 1);
        MessageSize = messageSize;
        Slots = Math.Clamp(PatternBudget / messageSize, 7, 251);
        _pattern = new byte[Slots * messageSize];
        uint x = 2463534242;
        for (int i = 0; i < _pattern.Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            _pattern[i] = (byte)x;
        }
    }

    public int MessageSize { get; }

    public int Slots { get; }

    public ReadOnlyMemory<byte> Message(int connection, long index) =>
        _pattern.AsMemory((int)((connection + index) % Slots) * MessageSize, MessageSize);
}
