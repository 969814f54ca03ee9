using System.Runtime.CompilerServices;

// Interop signatures are blittable: no runtime marshalling.
[assembly: DisableRuntimeMarshalling]
