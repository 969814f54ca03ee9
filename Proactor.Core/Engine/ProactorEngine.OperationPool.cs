namespace Proactor;

public abstract partial class ProactorEngine
{
    /// <summary>Idle operation objects shared by this engine's sockets, where the backend allows
    /// (<see cref="EngineSocket.SharesOperations"/>).</summary>
    internal OperationPool IdleOperations { get; } = new();
}
