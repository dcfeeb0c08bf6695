using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using CuratedIndex.Features.Typosquat;

namespace CuratedIndex.Benchmarks;

/// <summary>Checking one name against the whole corpus: a lookalike, a legitimate long-tail name, and an established name.</summary>
[MemoryDiagnoser]
public class CheckBenchmark
{
    private TyposquatDetector _detector = null!;

    [Params("reqeusts", "python3-dateutil", "flask-sqlalchemy-caching", "requests")]
    public string Name { get; set; } = "";

    // In-process: BenchmarkDotNet 0.14 does not generate projects for net10.0, and the detector needs no isolation.
    public static IConfig Config() => DefaultConfig.Instance.AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance));

    [GlobalSetup]
    public void Setup() => _detector = new TyposquatDetector(TyposquatCorpus.Load(Paths.Corpus));

    [Benchmark]
    public object? Check() => _detector.Check(Name);
}
