namespace Proactor.Linux;

/// <summary>How many times the demultiplexer reported one direction of a socket: a reactor's wait
/// for the next report compares it with the count when it was armed. Loop thread only.</summary>
internal sealed class ReportCounter
{
    public int Value;
}
