using System;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Proactor.Tests.Infrastructure;

/// <summary>Awaitable exception assertions (NUnit's ThrowsAsync blocks the calling thread).</summary>
internal static class Expect
{
    /// <summary>Awaits <paramref name="action"/> and returns the exception of type
    /// <typeparamref name="T"/> (or derived) it failed with; fails the test otherwise.</summary>
    public static async Task<T> ThrowsAsync<T>(Func<Task> action) where T : Exception
    {
        Exception? thrown = null;
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            thrown = e;
        }

        await Net.ToThePool(); // the asserts below never run on the thread that completed the action
        if (thrown is T expected)
        {
            return expected;
        }

        if (thrown is not null)
        {
            Assert.Fail($"Expected {typeof(T).Name} but got {thrown.GetType().Name}: {thrown.Message}");
        }

        Assert.Fail($"Expected {typeof(T).Name} but nothing was thrown.");
        return null!;
    }
}
