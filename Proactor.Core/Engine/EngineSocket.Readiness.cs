using System;
using System.Net.Sockets;

namespace Proactor;

internal abstract partial class EngineSocket
{
    /// <summary>
    /// Null when this backend can start <see cref="OperationKind.Poll"/> operations and perform
    /// <see cref="TryReceive"/>/<see cref="TrySend"/>; otherwise why not, for the exception the
    /// public API throws. A backend that says null must handle Poll in <see cref="Start"/>.
    /// </summary>
    public virtual string? ReadinessUnsupportedReason =>
        $"The {Engine.Name} backend offers no readiness API.";

    /// <summary>One non-blocking receive. True when it finished (<paramref name="received"/> bytes,
    /// 0 at end of stream, or <paramref name="error"/>); false when it would block.</summary>
    public virtual bool TryReceive(Span<byte> buffer, out int received, out SocketError error) =>
        throw new PlatformNotSupportedException(ReadinessUnsupportedReason);

    /// <summary>One non-blocking send of as much of <paramref name="buffer"/> as fits. True when it
    /// finished (<paramref name="sent"/> bytes, possibly fewer than asked, or <paramref name="error"/>);
    /// false when not one byte fits now.</summary>
    public virtual bool TrySend(ReadOnlySpan<byte> buffer, out int sent, out SocketError error) =>
        throw new PlatformNotSupportedException(ReadinessUnsupportedReason);
}
