using System;
using System.Runtime.Versioning;

namespace Proactor.Windows;

/// <summary>Constructs the IOCP backend.</summary>
[SupportedOSPlatform("windows")]
internal static class IocpEngineFactory
{
    public static ProactorEngine Create(EngineOptions options) =>
        throw new NotSupportedException("The IOCP backend is not available in this build.");
}
