using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace CuratedIndex.Features.Provenance;

/// <summary>
/// One publisher the organization trusts for a project (policy <c>publishers:</c>, the UI or the API), written as
/// <c>github:owner/repo/.github/workflows/file.yml[@environment]</c>, <c>gitlab:group/sub/project/path/to/file.yml[@environment]</c>
/// or <c>google:service-account-email</c>, optionally valid only <see cref="From"/> / <see cref="Until"/> a date
/// (like cargo-vet's trusted entries). Both dates are inclusive and read in UTC: <c>from 2025-01-01</c> starts at
/// 2025-01-01T00:00Z, <c>until 2026-12-31</c> ends at 2027-01-01T00:00Z (exclusive).
/// </summary>
/// <remarks>
/// Case rules when matching a verified <see cref="PublisherIdentity"/>: GitHub owner/repo, GitHub environments, the GitLab
/// project path and Google service account emails ignore case (GitHub, GitLab and Google treat them so, and PyPI compares
/// GitHub environments so); workflow file names, GitLab CI file paths and GitLab environments are compared exactly. A
/// GitLab entry is one path whose split into project and CI file is not knowable from the text (subgroups), so it is
/// matched against the identity's own split, never split here; since GitLab never has a group and a project at one
/// path, two splits of the same text cannot be two real publishers.
/// An entry is ASCII without whitespace, so a look-alike character or a hidden one cannot make two entries look equal.
/// </remarks>
public sealed class VettedPublisher
{
    /// <summary>The longest entry accepted (the <c>publisher_decisions.publisher</c> column).</summary>
    public const int MaxLength = 500;

    /// <summary>GitHub's limit on an environment name.</summary>
    public const int MaxEnvironmentLength = 255;

    private const string GitHubWorkflows = ".github/workflows/";

    private VettedPublisher(PublisherKind kind, string path, string? environment, DateOnly? from, DateOnly? until)
    {
        Kind = kind;
        Path = path;
        Environment = environment;
        From = from;
        Until = until;
    }

    public PublisherKind Kind { get; }

    /// <summary>
    /// The text between <c>kind:</c> and <c>@environment</c>: <c>owner/repo/.github/workflows/file.yml</c> (GitHub),
    /// <c>group/project/path/to/file.yml</c> (GitLab), the service account email (Google).
    /// </summary>
    public string Path { get; }

    /// <summary>The deployment environment the entry requires, or null for any environment (always null for Google).</summary>
    public string? Environment { get; }

    /// <summary>The first day (UTC) an upload may be matched, inclusive.</summary>
    public DateOnly? From { get; }

    /// <summary>The last day (UTC) an upload may be matched, inclusive through the end of that day.</summary>
    public DateOnly? Until { get; }

    /// <summary>
    /// The text two entries for the same publisher share: the entry with the parts compared ignoring case (GitHub
    /// owner/repo and environment, Google email) in lower case; a GitLab entry as written (its split is unknown).
    /// </summary>
    public string Key => Kind switch
    {
        PublisherKind.GitHub => "github:" + GitHubRepository.ToLowerInvariant() + "/" + GitHubWorkflows + GitHubWorkflow + EnvironmentSuffix(Environment?.ToLowerInvariant()),
        PublisherKind.GitLab => "gitlab:" + Path + EnvironmentSuffix(Environment),
        _ => "google:" + Path.ToLowerInvariant(),
    };

    /// <summary>GitHub only: <c>owner/repo</c>.</summary>
    private string GitHubRepository => Path[..Path.IndexOf("/" + GitHubWorkflows, StringComparison.Ordinal)];

    /// <summary>GitHub only: the workflow file name.</summary>
    private string GitHubWorkflow => Path[(Path.LastIndexOf('/') + 1)..];

    /// <summary>
    /// Parses an entry. On failure <paramref name="error"/> says precisely what is wrong (one line, no trailing period);
    /// on success it is empty.
    /// </summary>
    public static bool TryParse(string text, DateOnly? from, DateOnly? until, [NotNullWhen(true)] out VettedPublisher? publisher, out string error)
    {
        publisher = null;
        error = Check(text, from, until, out var kind, out var path, out var environment) ?? "";
        if (error.Length > 0)
        {
            return false;
        }

        publisher = new VettedPublisher(kind, path, environment, from, until);
        return true;
    }

    /// <summary>
    /// Whether a verified identity is this publisher, for a file uploaded (or signed) at <paramref name="uploadTime"/>:
    /// the same kind, the same repository / project / email and workflow under the case rules above, the entry's
    /// environment if it names one, proven by the certificate (an entry without one accepts any environment, or none), and a time within
    /// <see cref="From"/>..<see cref="Until"/>.
    /// </summary>
    public bool Matches(PublisherIdentity identity, DateTimeOffset uploadTime)
    {
        if (identity.Kind != Kind || !IsValidAt(uploadTime))
        {
            return false;
        }

        switch (Kind)
        {
            case PublisherKind.GitHub:
                return identity.Workflow is not null
                    && string.Equals(identity.Repository, GitHubRepository, StringComparison.OrdinalIgnoreCase)
                    && string.Equals(identity.Workflow, GitHubWorkflow, StringComparison.Ordinal)
                    && EnvironmentMatches(identity, StringComparison.OrdinalIgnoreCase);
            case PublisherKind.GitLab:
                // Path = identity's project path (any case) + "/" + its CI file path (exact); the identity says where
                // the project ends, the entry cannot.
                var repository = identity.Repository;
                return identity.Workflow is { Length: > 0 } file
                    && repository.Length > 0
                    && Path.Length == repository.Length + 1 + file.Length
                    && Path.AsSpan(0, repository.Length).Equals(repository, StringComparison.OrdinalIgnoreCase)
                    && Path[repository.Length] == '/'
                    && Path.AsSpan(repository.Length + 1).SequenceEqual(file)
                    && EnvironmentMatches(identity, StringComparison.Ordinal);
            default:
                return string.Equals(identity.Repository, Path, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>
    /// Whether two verified identities are the same publisher under the case rules above: the same kind, repository /
    /// project path / email ignoring case, the workflow or CI file path exactly, and the same environment (none and
    /// empty are the same; GitHub's ignoring case).
    /// </summary>
    public static bool SamePublisher(PublisherIdentity a, PublisherIdentity b)
    {
        if (a.Kind != b.Kind || !string.Equals(a.Repository, b.Repository, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (a.Kind == PublisherKind.Google)
        {
            return true;
        }

        var environmentComparison = a.Kind == PublisherKind.GitHub ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return string.Equals(a.Workflow, b.Workflow, StringComparison.Ordinal)
            && string.Equals(a.Environment ?? "", b.Environment ?? "", environmentComparison);
    }

    /// <summary>Whether <paramref name="time"/> lies within <see cref="From"/>..<see cref="Until"/> (both inclusive days, UTC).</summary>
    public bool IsValidAt(DateTimeOffset time)
    {
        var day = DateOnly.FromDateTime(time.UtcDateTime);
        return (From is not { } from || day >= from) && (Until is not { } until || day <= until);
    }

    /// <summary>For people: "GitHub workflow release.yml in owner/repo, environment pypi, from 2025-01-01".</summary>
    public string Describe()
    {
        var what = Kind switch
        {
            PublisherKind.GitHub => $"GitHub workflow {GitHubWorkflow} in {GitHubRepository}",
            PublisherKind.GitLab => $"GitLab CI configuration {Path}",
            _ => $"Google service account {Path}",
        };
        var environment = Kind == PublisherKind.Google ? "" : Environment is null ? ", any environment" : $", environment {Environment}";
        var dates = (From, Until) switch
        {
            ({ } from, { } until) => $", from {Day(from)} until {Day(until)}",
            ({ } from, null) => $", from {Day(from)}",
            (null, { } until) => $", until {Day(until)}",
            _ => "",
        };
        return what + environment + dates;
    }

    /// <summary>The entry in its canonical form (kind in lower case, the rest as written, no dates); parses back to itself.</summary>
    public override string ToString() =>
        Kind switch
        {
            PublisherKind.GitHub => "github:",
            PublisherKind.GitLab => "gitlab:",
            _ => "google:",
        } + Path + EnvironmentSuffix(Environment);

    // An entry that names an environment is satisfied only by a certificate that carries it (Fulcio's Deployment
    // Environment, OID .1.23): the provenance's publisher object is not signed, so an environment it merely states could
    // be written by whoever serves the document, and the environment's protection would be sidestepped.
    private bool EnvironmentMatches(PublisherIdentity identity, StringComparison comparison) =>
        Environment is null || (identity.EnvironmentProven && !string.IsNullOrEmpty(identity.Environment) && string.Equals(identity.Environment, Environment, comparison));

    private static string EnvironmentSuffix(string? environment) => environment is null ? "" : "@" + environment;

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string? Check(string text, DateOnly? from, DateOnly? until, out PublisherKind kind, out string path, out string? environment)
    {
        kind = default;
        path = "";
        environment = null;
        if (string.IsNullOrEmpty(text))
        {
            return "the publisher is empty";
        }

        if (text.Length > MaxLength)
        {
            return $"the publisher is longer than {MaxLength} characters";
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                return $"the publisher contains whitespace at position {i + 1}";
            }

            if (char.IsControl(c))
            {
                return $"the publisher contains the control character U+{(int)c:X4} at position {i + 1}";
            }

            if (c > '~')
            {
                return $"the publisher contains the non-ASCII character U+{(int)c:X4} at position {i + 1} (publishers are written in ASCII)";
            }
        }

        if (until < from)
        {
            return $"until {Day(until!.Value)} is before from {Day(from!.Value)}";
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return "the publisher must start with github:, gitlab: or google:";
        }

        var kindText = text[..colon];
        var rest = text[(colon + 1)..];
        switch (kindText.ToLowerInvariant())
        {
            case "github":
                kind = PublisherKind.GitHub;
                return SplitEnvironment(rest, out path, out environment) ?? CheckGitHub(path);
            case "gitlab":
                kind = PublisherKind.GitLab;
                return SplitEnvironment(rest, out path, out environment) ?? CheckGitLab(path);
            case "google":
                kind = PublisherKind.Google;
                path = rest;
                return IsEmail(rest) ? null : $"'{rest}' is not a service account email (name@project.iam.gserviceaccount.com)";
            default:
                return $"unknown publisher kind '{kindText}' (known: github, gitlab, google)";
        }
    }

    private static string? SplitEnvironment(string rest, out string path, out string? environment)
    {
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        path = at < 0 ? rest : rest[..at];
        environment = at < 0 ? null : rest[(at + 1)..];
        return environment switch
        {
            null => null,
            "" => "the environment after '@' is empty (leave out the '@' to accept any environment)",
            { Length: > MaxEnvironmentLength } => $"the environment is longer than {MaxEnvironmentLength} characters",
            _ => null,
        };
    }

    private static string? CheckGitHub(string path)
    {
        var segments = path.Split('/');
        if (segments.Length < 2 || segments[0].Length == 0 || segments[1].Length == 0)
        {
            return $"'{path}' does not start with owner/repo (github:owner/repo/.github/workflows/file.yml)";
        }

        if (!IsGitHubOwner(segments[0]))
        {
            return $"'{segments[0]}' is not a GitHub owner (letters, digits and '-', not first, at most 39)";
        }

        if (!IsGitHubRepository(segments[1]))
        {
            return $"'{segments[1]}' is not a GitHub repository name (letters, digits, '.', '-' and '_', at most 100)";
        }

        if (segments.Length == 2 || (segments.Length == 3 && segments[2].Length == 0))
        {
            return "the workflow path is missing (github:owner/repo/.github/workflows/file.yml)";
        }

        var workflowPath = string.Join('/', segments[2..]);
        if (segments.Length < 5 || segments[2] != ".github" || segments[3] != "workflows")
        {
            return $"the workflow '{workflowPath}' is not under .github/workflows/";
        }

        if (segments.Length > 5)
        {
            return $"the workflow '{workflowPath}' is not directly under .github/workflows/ (GitHub runs no workflow from a subdirectory)";
        }

        return IsYamlFile(segments[4]) ? null : $"the workflow file '{segments[4]}' does not end in .yml or .yaml";
    }

    private static string? CheckGitLab(string path)
    {
        var segments = path.Split('/');
        if (segments.Any(s => s.Length == 0))
        {
            return $"the path '{path}' has an empty segment (a leading, trailing or double '/')";
        }

        if (segments.Any(s => s is "." or ".."))
        {
            return $"the path '{path}' contains '.' or '..'";
        }

        if (segments.Length < 3)
        {
            return "the CI file path is missing (gitlab:group/project/path/to/file.yml)";
        }

        foreach (var segment in segments[..2])
        {
            if (!segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
            {
                return $"'{segment}' is not a GitLab group or project name (letters, digits, '.', '-' and '_')";
            }
        }

        return IsYamlFile(segments[^1]) ? null : $"the CI file '{segments[^1]}' does not end in .yml or .yaml";
    }

    private static bool IsYamlFile(string name) =>
        (name.EndsWith(".yml", StringComparison.Ordinal) && name.Length > ".yml".Length)
        || (name.EndsWith(".yaml", StringComparison.Ordinal) && name.Length > ".yaml".Length);

    private static bool IsGitHubOwner(string owner) =>
        owner.Length <= 39 && char.IsAsciiLetterOrDigit(owner[0]) && owner.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static bool IsGitHubRepository(string repository) =>
        repository.Length <= 100 && repository is not ("." or "..") && repository.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');

    /// <summary>local@domain: one '@', the local part of letters, digits and <c>.!#$%&amp;'*+/=?^_`{|}~-</c> (at most 64), a dotted domain of letters, digits and '-'.</summary>
    private static bool IsEmail(string text)
    {
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at > 64 || at != text.LastIndexOf('@'))
        {
            return false;
        }

        var local = text[..at];
        var domain = text[(at + 1)..];
        if (local.StartsWith('.') || local.EndsWith('.') || local.Contains("..", StringComparison.Ordinal)
            || !local.All(c => char.IsAsciiLetterOrDigit(c) || ".!#$%&'*+/=?^_`{|}~-".Contains(c, StringComparison.Ordinal)))
        {
            return false;
        }

        var labels = domain.Split('.');
        return domain.Length <= 253 && labels.Length >= 2
            && labels.All(l => l.Length is > 0 and <= 63 && l[0] != '-' && l[^1] != '-' && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));
    }
}
