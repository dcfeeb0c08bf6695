namespace CuratedIndex.Tests.Features.Jobs;

/// <summary>A clock the test moves by hand (the FakeTimeProvider package is not in the feed). Timers still use real time.</summary>
public sealed class TestClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
