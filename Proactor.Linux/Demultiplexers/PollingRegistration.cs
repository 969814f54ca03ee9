namespace Proactor.Linux;

/// <summary>One registration as poll and select see it.</summary>
internal struct PollingRegistration
{
    public int Fd;
    public ulong Key;
    public Interest Interest;
}
