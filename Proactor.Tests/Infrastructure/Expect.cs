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
        try
        {
            await action().ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        }
        catch (T e)
        {
            return e;
        }
        catch (Exception e)
        {
            Assert.Fail($"Expected {typeof(T).Name} but got {e.GetType().Name}: {e.Message}");
        }

        Assert.Fail($"Expected {typeof(T).Name} but nothing was thrown.");
        return null!;
    }
}
