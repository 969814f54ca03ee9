using System.Runtime.Versioning;

namespace Proactor.Windows;

/// <summary>Constructs the IOCP backend.</summary>
[SupportedOSPlatform("windows")]
internal static class IocpEngineFactory
{
    public static ProactorEngine Create(EngineOptions options) => new IocpEngine(options);
}
