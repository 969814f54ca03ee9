using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;

namespace Proactor.Tests.Core;

/// <summary>The deadline heap against a plain model: random schedules, reschedules, cancels and
/// firings from a printed seed; and the clock's edges.</summary>
[TestFixture]
public sealed class TimerQueueTests
{
    [Test]
    public void Random_schedules_cancels_and_firings_match_a_sorted_model()
    {
        int seed = Environment.TickCount;
        TestContext.Out.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var queue = new TimerQueue();
        var fired = new List<int>();
        var entries = Enumerable.Range(0, 64).Select(i => new TimerEntry(s => fired.Add((int)s!), i)).ToArray();
        var model = new Dictionary<int, (long Due, long Order)>(); // entry -> its live deadline
        long order = 0;

        for (int step = 0; step < 20_000; step++)
        {
            int i = random.Next(entries.Length);
            switch (random.Next(4))
            {
                case 0:
                case 1:
                {
                    // Due times in the past, so RunDue fires what the model says is due.
                    long due = TimerQueue.Now - random.Next(1, 1000);
                    queue.Schedule(entries[i], due);
                    model[i] = (due, order++);
                    break;
                }

                case 2:
                {
                    Assert.That(queue.Cancel(entries[i]), Is.EqualTo(model.Remove(i)), $"step {step}: cancel of entry {i}");
                    break;
                }

                default:
                {
                    fired.Clear();
                    queue.RunDue();
                    int[] expected = model.OrderBy(kv => kv.Value.Due).ThenBy(kv => kv.Value.Order).Select(kv => kv.Key).ToArray();
                    model.Clear();
                    Assert.That(fired, Is.EqualTo(expected), $"step {step}: firing order");
                    break;
                }
            }

            Assert.That(queue.Count, Is.EqualTo(model.Count), $"step {step}: live deadlines");
        }
    }

    [Test]
    public void A_callback_that_reschedules_its_own_entry_keeps_the_new_deadline()
    {
        var queue = new TimerQueue();
        int calls = 0;
        TimerEntry entry = null!;
        entry = new TimerEntry(_ =>
        {
            calls++;
            queue.Schedule(entry, TimerQueue.DueAfter(TimeSpan.FromHours(1)));
            Assert.That(queue.Cancel(entry), Is.True, "the new deadline is live inside the callback");
            queue.Schedule(entry, TimerQueue.DueAfter(TimeSpan.FromHours(1)));
        }, null);
        queue.Schedule(entry, TimerQueue.Now - 1);
        queue.RunDue();
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(queue.Count, Is.EqualTo(1), "the deadline armed inside the callback survived its return");
        Assert.That(queue.Cancel(entry), Is.True);
    }

    [Test]
    public void Deadlines_beyond_the_clock_saturate_instead_of_overflowing()
    {
        Assert.That(TimerQueue.DueAfter(TimeSpan.MaxValue), Is.EqualTo(long.MaxValue));
        Assert.That(TimerQueue.DueAfter(TimeSpan.FromDays(365 * 200)), Is.EqualTo(long.MaxValue).Or.GreaterThan(TimerQueue.Now));

        var queue = new TimerQueue();
        var never = new TimerEntry(_ => Assert.Fail("fired"), null);
        queue.Schedule(never, TimerQueue.DueAfter(TimeSpan.MaxValue));
        Assert.That(queue.GetWaitTimeoutMilliseconds(), Is.EqualTo(-1), "a deadline that never comes waits without limit");
        Assert.That(queue.RunDue(), Is.Zero);

        // 200 days: far beyond what milliseconds * frequency fits in a long; the wait must be the
        // longest one possible, never negative (which would mean "wait for ever" or "now").
        var far = new TimerEntry(_ => Assert.Fail("fired"), null);
        queue.Schedule(far, TimerQueue.DueAfter(TimeSpan.FromDays(200)));
        Assert.That(queue.GetWaitTimeoutMilliseconds(), Is.EqualTo(int.MaxValue));
        var soon = new TimerEntry(_ => { }, null);
        queue.Schedule(soon, TimerQueue.DueAfter(TimeSpan.FromSeconds(100)));
        Assert.That(queue.GetWaitTimeoutMilliseconds(), Is.InRange(99_000, 100_001));
    }

    [Test]
    public void A_closed_queue_refuses_new_deadlines_and_returns_the_pending_ones()
    {
        var queue = new TimerQueue();
        var a = new TimerEntry(_ => { }, null);
        var b = new TimerEntry(_ => { }, null);
        queue.Schedule(a, TimerQueue.DueAfter(TimeSpan.FromSeconds(5)));
        Assert.That(queue.Close(), Is.EquivalentTo(new[] { a }));
        Assert.That(queue.Schedule(b, TimerQueue.Now), Is.EqualTo(TimerScheduleResult.Closed));
        Assert.That(queue.Count, Is.Zero);
        Assert.That(queue.Cancel(a), Is.False);
    }
}
