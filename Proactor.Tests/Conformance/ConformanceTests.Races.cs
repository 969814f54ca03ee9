using System.Linq;
using System.Threading.Tasks;
using NUnit.Framework;
using Proactor.Tests.Infrastructure;

namespace Proactor.Tests.Conformance;

public abstract partial class ConformanceTests
{
    /// <summary>
    /// Several threads race receives, sends, accepts and connects against cancels, timeouts,
    /// half-closes, resets, closes, closed listeners and finally the engine's own Dispose; see
    /// <see cref="ChaosRun"/> for the invariants. Replay a failure with <c>PROACTOR_RACE_SEED</c>;
    /// soak with <c>PROACTOR_STRESS_SECONDS</c>.
    /// </summary>
    [Test]
    public async Task Random_races_of_operations_cancels_closes_resets_and_engine_dispose_keep_every_invariant()
    {
        int seed = Stress.Seed();
        TestContext.Out.WriteLine($"{Engine.Name}: seed {seed} (replay with PROACTOR_RACE_SEED={seed})");

        // Written at once, too: if the run hangs past the suite's watchdog, the log still says
        // which seed replays it (the test's own output is printed only when it ends).
        TestContext.Progress.WriteLine($"{Engine.Name}: race run, seed {seed} (replay with PROACTOR_RACE_SEED={seed})");

        // Its own engine: the run ends by disposing it under load.
        ProactorEngine engine = CreateSecondEngine();
        var run = new ChaosRun(engine, seed);
        string summary;
        try
        {
            summary = await run.RunAsync(Stress.Duration);
        }
        finally
        {
            engine.Dispose();
        }

        TestContext.Out.WriteLine(summary);
        foreach (string v in run.Violations.Take(20))
        {
            TestContext.Out.WriteLine("  " + v);
        }

        Assert.That(run.Submitted, Is.GreaterThan(100), $"seed {seed}: the run did almost nothing, so it proved nothing");
        Assert.That(run.Violations, Is.Empty,
            $"seed {seed} (replay with PROACTOR_RACE_SEED={seed}): {run.Violations.Count} violations, first: {run.Violations.FirstOrDefault()}");
    }
}
