using System.Text.Json;

namespace CuratedIndex.Features.Provenance;

/// <summary>
/// Matches the provenance's <c>publisher</c> object against the identity the signing certificate proves, as PyPI
/// enforced at upload (pypi-attestations' GitHub/GitLab trusted publisher policies and GooglePublisher). Comparisons
/// are exact and case-sensitive. Unknown and extra publisher keys are tolerated; unknown kinds are not.
/// </summary>
internal static class PublisherPolicy
{
    private const string GitHubIssuer = "https://token.actions.githubusercontent.com";
    private const string GitLabIssuer = "https://gitlab.com";
    private const string GoogleIssuer = "https://accounts.google.com";

    /// <summary>The publisher kind, checked before any cryptography so an unsupported kind fails fast.</summary>
    public static PublisherKind Kind(JsonElement publisher) =>
        SigstoreJson.String(publisher, "kind", "publisher") switch
        {
            "GitHub" => PublisherKind.GitHub,
            "GitLab" => PublisherKind.GitLab,
            "Google" => PublisherKind.Google,
            var other => throw new ProvenanceCheckException($"publisher kind '{other}' is not supported (attestations exist only for GitHub, GitLab and Google publishers)"),
        };

    public static PublisherIdentity Match(JsonElement publisher, FulcioCertificate certificate) =>
        Kind(publisher) switch
        {
            PublisherKind.GitHub => MatchGitHub(publisher, certificate),
            PublisherKind.GitLab => MatchGitLab(publisher, certificate),
            _ => MatchGoogle(publisher, certificate),
        };

    private static PublisherIdentity MatchGitHub(JsonElement publisher, FulcioCertificate certificate)
    {
        var repository = SigstoreJson.String(publisher, "repository", "GitHub publisher");
        var workflow = SigstoreJson.String(publisher, "workflow", "GitHub publisher");
        RequireIssuer(certificate, GitHubIssuer, "GitHub Actions");
        RequireSourceRepository(certificate, "https://github.com/" + repository);
        var digest = certificate.Extension(13);
        var reference = certificate.Extension(14);
        if (digest is null && reference is null)
        {
            throw new ProvenanceCheckException("publisher: certificate has neither Source Repository Digest nor Ref");
        }
        // Match the Build Config URI (.18), the top-level workflow, never the SAN (.9): reusable workflows make the SAN
        // name another repository's workflow.
        RequireBuildConfig(certificate, $"https://github.com/{repository}/.github/workflows/{workflow}", reference, digest, workflow);
        var (environment, proven) = Environment(publisher, certificate, "GitHub publisher");
        return new PublisherIdentity(PublisherKind.GitHub, repository, workflow, environment, proven);
    }

    private static PublisherIdentity MatchGitLab(JsonElement publisher, FulcioCertificate certificate)
    {
        var repository = SigstoreJson.String(publisher, "repository", "GitLab publisher");
        var workflow = SigstoreJson.String(publisher, "workflow_filepath", "GitLab publisher");
        RequireIssuer(certificate, GitLabIssuer, "GitLab");
        RequireSourceRepository(certificate, "https://gitlab.com/" + repository);
        var digest = certificate.Extension(13);
        var reference = certificate.Extension(14);
        if (digest is null || reference is null)
        {
            throw new ProvenanceCheckException("publisher: GitLab certificate lacks Source Repository Digest or Ref");
        }
        // GitLab's Build Config URI has a double slash between the project and the CI file path.
        RequireBuildConfig(certificate, $"https://gitlab.com/{repository}//{workflow}", reference, digest, workflow);
        var (environment, proven) = Environment(publisher, certificate, "GitLab publisher");
        return new PublisherIdentity(PublisherKind.GitLab, repository, workflow, environment, proven);
    }

    private static PublisherIdentity MatchGoogle(JsonElement publisher, FulcioCertificate certificate)
    {
        var email = SigstoreJson.String(publisher, "email", "Google publisher");
        // Real Google certificates carry only the deprecated raw issuer (.1) and .8.
        var issuer = certificate.Extension(1);
        if (issuer != GoogleIssuer)
        {
            throw new ProvenanceCheckException($"publisher: certificate issuer '{issuer}' is not Google ({GoogleIssuer})");
        }
        var (_, emails) = certificate.SubjectAlternativeNames();
        if (!emails.Contains(email, StringComparer.Ordinal))
        {
            throw new ProvenanceCheckException($"publisher: certificate SAN email ({string.Join(", ", emails)}) is not the publisher email '{email}'");
        }
        return new PublisherIdentity(PublisherKind.Google, email, null, null);
    }

    private static void RequireIssuer(FulcioCertificate certificate, string expected, string name)
    {
        var issuer = certificate.Extension(8);
        if (issuer != expected)
        {
            throw new ProvenanceCheckException($"publisher: certificate issuer '{issuer}' is not {name} ({expected})");
        }
    }

    private static void RequireSourceRepository(FulcioCertificate certificate, string expected)
    {
        var uri = certificate.Extension(12);
        if (uri != expected)
        {
            throw new ProvenanceCheckException($"publisher: certificate Source Repository URI '{uri}' is not the publisher repository {expected}");
        }
    }

    private static void RequireBuildConfig(FulcioCertificate certificate, string prefix, string? reference, string? digest, string workflow)
    {
        var buildConfig = certificate.Extension(18);
        if (buildConfig is null
            || !((reference is not null && buildConfig == prefix + "@" + reference) || (digest is not null && buildConfig == prefix + "@" + digest)))
        {
            throw new ProvenanceCheckException($"publisher: certificate Build Config URI '{buildConfig}' is not workflow '{workflow}' ({prefix}@…)");
        }
    }

    /// <summary>
    /// The environment the publisher states (empty counts as none). When the certificate carries Deployment Environment
    /// (.23) and the publisher states one, they must be equal, and the environment is then proven. A publisher that
    /// states none is not constrained by the certificate's environment (PyPI publishers without an environment accept
    /// uploads from any), so the identity keeps no environment.
    /// </summary>
    private static (string? Environment, bool Proven) Environment(JsonElement publisher, FulcioCertificate certificate, string what)
    {
        var stated = SigstoreJson.OptionalString(publisher, "environment", what);
        stated = string.IsNullOrEmpty(stated) ? null : stated;
        var certified = certificate.Extension(23);
        certified = string.IsNullOrEmpty(certified) ? null : certified;
        if (stated is null || certified is null)
        {
            return (stated, false);
        }
        return certified == stated
            ? (stated, true)
            : throw new ProvenanceCheckException($"publisher: certificate Deployment Environment '{certified}' is not the publisher environment '{stated}'");
    }
}
