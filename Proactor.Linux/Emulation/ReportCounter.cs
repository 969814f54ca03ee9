namespace Proactor.Linux;

/// <summary>How many times the demultiplexer reported one direction of a socket: a reactor's wait
/// for the next report compares it with the count when it was armed. Loop thread only.</summary>
/// <remarks>The base of that direction's <see cref="OperationQueue"/>, so a socket carries no
/// separate counter object.</remarks>
internal class ReportCounter
{
    public int Value;
}
