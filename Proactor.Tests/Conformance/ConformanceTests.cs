using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

/// <summary>
/// The one conformance suite: every behaviour a backend must have, written once. Each backend
/// and option set runs it through a small sealed fixture that only says how to create its engine.
/// </summary>
[NonParallelizable]
public abstract partial class ConformanceTests
{
    private IReadOnlyDictionary<string, string> _descriptorsBefore = null!;

    /// <summary>The engine under test (fresh for every test).</summary>
    protected ProactorEngine Engine { get; private set; } = null!;

    /// <summary>Creates the engine under test.</summary>
    protected abstract ProactorEngine CreateEngine();

    [SetUp]
    public void CreateEngineUnderTest()
    {
        _descriptorsBefore = DescriptorCount.Snapshot();
        Engine = CreateEngine();
    }

    [TearDown]
    public async Task DisposeEngineAndCheckForLeaks()
    {
        Engine.Dispose();

        // Descriptors are closed synchronously by Dispose; allow a moment for a closing thread.
        IReadOnlyDictionary<string, string> after = DescriptorCount.Snapshot();
        for (int i = 0; i < 20 && after.Count > _descriptorsBefore.Count; i++)
        {
            await Task.Delay(50);
            after = DescriptorCount.Snapshot();
        }

        Assert.That(after.Count, Is.LessThanOrEqualTo(_descriptorsBefore.Count),
            $"descriptors leaked by the test or the engine's shutdown: {DescriptorCount.Describe(_descriptorsBefore, after)}");
    }

    /// <summary>
    /// Bytes the .NET runtime itself allocates for each await of an operation that was still pending,
    /// independent of the backend: zero on every fixture except where an override says why (the
    /// IOCP fixtures under Wine: see <c>IocpConformanceTests</c>). The allocation test subtracts it,
    /// so a backend's own per-operation allocation still fails the test.
    /// </summary>
    protected virtual int RuntimeBytesPerPendingAwait => 0;

    /// <summary>
    /// True where a round trip costs milliseconds rather than microseconds (the IOCP fixtures under
    /// Wine, the same ones whose runtime allocates per pending await): the allocation measurements
    /// run fewer round trips there. An allocation per operation (24 B or more) still shows many
    /// times over the bound; fewer round trips only spread the run's fixed costs thinner.
    /// </summary>
    protected bool RoundTripsAreSlow => RuntimeBytesPerPendingAwait > 0;

    /// <summary>A second engine of the same backend, disposed by the caller.</summary>
    protected ProactorEngine CreateSecondEngine() => CreateEngine();
}
