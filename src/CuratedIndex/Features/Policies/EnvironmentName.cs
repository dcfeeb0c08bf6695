namespace CuratedIndex.Features.Policies;

/// <summary>Environment names appear in URLs (<c>/{env}/simple/</c>): lower-case letters, digits and '-'.</summary>
public static class EnvironmentName
{
    public const int MaxLength = 64;

    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name)
        && name.Length <= MaxLength
        && name[0] != '-'
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
}
