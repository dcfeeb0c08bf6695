namespace CuratedIndex.Features.Policies;

/// <summary>A policy file that cannot be used. The message names the file, the line and the problem.</summary>
public sealed class PolicyFileException(string file, long line, string problem)
    : Exception($"{file}:{line}: {problem}")
{
    public string File { get; } = file;
    public long Line { get; } = line;
    public string Problem { get; } = problem;
}
