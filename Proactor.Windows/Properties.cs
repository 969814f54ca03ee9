using System.Runtime.CompilerServices;
using System.Runtime.Versioning;

// Interop signatures are blittable: no runtime marshalling, AOT- and trim-safe.
[assembly: DisableRuntimeMarshalling]

// Everything here calls kernel32 / ws2_32: the analyzers flag any caller that forgets the OS check.
[assembly: SupportedOSPlatform("windows")]
