using System.Diagnostics;
using System.IO.Compression;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Protocol;

namespace CuratedIndex.Benchmarks;

/// <summary>
/// Measures the detector on real data: recall on typosquats taken down from PyPI, and how often it flags
/// legitimate names (the live long tail outside the corpus, and each corpus name checked against the others).
/// Every name is scored once; the figures are then read off at the default threshold and a few others.
/// </summary>
internal static class Quality
{
    private static readonly double[] Thresholds = [0.45, 0.5, TyposquatDetector.DefaultThreshold, 0.6, 0.65, 0.7];

    public static int Run(string labelledPath, bool verbose)
    {
        var clock = Stopwatch.StartNew();
        var corpus = TyposquatCorpus.Load(Paths.Corpus);

        // A detector that reports everything it scores, so one pass gives every threshold's figures.
        var everything = new TyposquatDetector(corpus, threshold: 0.0001);
        const double defaultThreshold = TyposquatDetector.DefaultThreshold;
        Console.WriteLine($"corpus: {corpus.Projects.Count:N0} projects from {Paths.Corpus}, indexed in {clock.ElapsedMilliseconds} ms");

        // 1. Recall: a pair counts when a finding names the imitated project.
        var pairs = File.ReadLines(labelledPath).Skip(1).Select(l => l.Split('\t')).Where(f => f.Length >= 2).ToList();
        var labelledScores = new List<double>();
        foreach (var pair in pairs)
        {
            var hit = everything.CheckAll(pair[0]).FirstOrDefault(f => f.Imitated == pair[1]);
            labelledScores.Add(hit?.Score ?? 0);
            if (verbose || hit is null || hit.Score < defaultThreshold)
            {
                Console.WriteLine($"  {(hit is null || hit.Score < defaultThreshold ? "MISSED" : "found ")} {pair[0]} -> {pair[1]}: {hit?.ToTsv() ?? "no likeness found"}");
            }
        }

        // 2. The live long tail: every PyPI name that is not in the corpus, checked as a new name would be.
        var established = corpus.Projects.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var tailScores = new List<double>();
        var samples = new List<string>();
        var tailClock = Stopwatch.StartNew();
        using (var reader = new StreamReader(new GZipStream(File.OpenRead(Paths.AllNames), CompressionMode.Decompress)))
        {
            for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
            {
                if (!ProjectName.IsValid(line) || established.Contains(ProjectName.Normalize(line)))
                {
                    continue;
                }

                var finding = everything.Check(line);
                tailScores.Add(finding?.Score ?? 0);
                if (finding is not null && finding.Score >= defaultThreshold && samples.Count < 30 && tailScores.Count % 101 == 0)
                {
                    samples.Add(finding.ToTsv());
                }
            }
        }

        tailClock.Stop();
        Console.WriteLine($"long tail: {tailScores.Count:N0} live names outside the corpus, {tailClock.Elapsed.TotalMicroseconds / tailScores.Count:F1} µs per check (reading the file included)");

        // 3. The corpus itself. By the established-names rule no corpus name is ever flagged, so that figure is 0 by
        // construction. The honest question is whether a legitimate project like these would be flagged if it were
        // new: check each name against the corpus without itself. "Upward" counts only findings that point at a more
        // popular project, the only direction a new name (no downloads yet) can have.
        var topScores = new List<double>();
        var upwardScores = new List<double>();
        var topFindings = new List<TyposquatFinding>();
        foreach (var project in corpus.Projects)
        {
            var findings = everything.CheckAgainstOthers(project.Name);
            topScores.Add(findings.Count > 0 ? findings[0].Score : 0);
            upwardScores.Add(findings.Where(f => f.Rank < project.Rank).Select(f => f.Score).DefaultIfEmpty(0).Max());
            if (findings.Count > 0 && findings[0].Score >= defaultThreshold)
            {
                topFindings.Add(findings[0]);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"| threshold | recall ({pairs.Count} labelled) | long tail flagged | top {corpus.Projects.Count:N0} flagged (vs all others) | top flagged (vs more popular) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        foreach (var threshold in Thresholds)
        {
            var mark = threshold == defaultThreshold ? " (default)" : "";
            Console.WriteLine($"| {threshold:0.00}{mark} | {Share(labelledScores, threshold)} | {Share(tailScores, threshold)} | {Share(topScores, threshold)} | {Share(upwardScores, threshold)} |");
        }

        if (verbose)
        {
            Console.WriteLine("\nlong-tail sample:");
            samples.ForEach(s => Console.WriteLine("  " + s));
            Console.WriteLine("\ntop names flagged against the others:");
            topFindings.ForEach(f => Console.WriteLine("  " + f.ToTsv()));
        }

        return 0;
    }

    private static string Share(List<double> scores, double threshold)
    {
        var count = scores.Count(s => s >= threshold);
        return $"{100.0 * count / scores.Count:F2}% ({count:N0})";
    }
}
