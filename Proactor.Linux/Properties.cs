using System.Runtime.CompilerServices;

// Interop signatures are blittable: no runtime marshalling, AOT- and trim-safe.
[assembly: DisableRuntimeMarshalling]
