using System;

namespace Proactor.Bench.Cli;

/// <summary>
/// A mistake in the command line or an environment that cannot run what was asked (unknown or
/// unavailable backend, port in use). Program prints its message as one line and exits non-zero;
/// no stack trace, because the user can fix it by changing the command.
/// </summary>
internal sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public UsageException()
    {
    }
}
