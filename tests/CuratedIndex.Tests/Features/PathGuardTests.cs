using CuratedIndex.Hosting;

namespace CuratedIndex.Tests.Features;

public sealed class PathGuardTests
{
    [Theory]
    [InlineData("/dev/simple/six/")]
    [InlineData("/dev/files/torch/torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl")]
    [InlineData("/dev/simple/?q=..")]
    public void Refusal_OrdinaryTargets_AreAccepted(string target) => Assert.Null(PathGuardMiddleware.Refusal(target));

    [Theory]
    [InlineData("/dev/simple/%2E%2E/x")]
    [InlineData("/dev/simple/./x")]
    [InlineData("/dev/files/six/..")]
    [InlineData("/dev\\simple")]
    [InlineData("/dev/files/a%2Fb")]
    public void Refusal_TraversalTargets_AreRefused(string target) => Assert.NotNull(PathGuardMiddleware.Refusal(target));

    [Fact]
    public void Refusal_OverlongTarget_IsRefused() =>
        Assert.Contains("longer than", PathGuardMiddleware.Refusal("/" + new string('a', 3000)), StringComparison.Ordinal);
}
