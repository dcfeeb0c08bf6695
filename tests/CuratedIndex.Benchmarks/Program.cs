using BenchmarkDotNet.Running;
using CuratedIndex.Benchmarks;

// `quality [--verbose] [--labelled FILE]`: the detector's recall and flag rates (a report, exit 0 whatever the figures).
// `speed` (or anything else): BenchmarkDotNet, remaining arguments go to it (e.g. --filter '*').
if (args.Length > 0 && args[0] == "quality")
{
    var labelled = args.SkipWhile(a => a != "--labelled").Skip(1).FirstOrDefault() ?? Paths.Labelled;
    return Quality.Run(labelled, verbose: args.Contains("--verbose"));
}

BenchmarkSwitcher.FromTypes([typeof(CheckBenchmark), typeof(ProvenanceBenchmark), typeof(ClosureBenchmark)]).Run(args.SkipWhile(a => a == "speed").ToArray(), CheckBenchmark.Config());
return 0;
