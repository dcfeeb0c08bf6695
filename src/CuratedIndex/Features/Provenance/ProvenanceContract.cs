namespace CuratedIndex.Features.Provenance;

/// <summary>The trusted-publisher kinds PEP 740 attestations exist for (ActiveState has none: PROVENANCE.md).</summary>
public enum PublisherKind
{
    GitHub,
    GitLab,
    Google,
}

/// <summary>
/// The publisher a verified attestation proves: read from the certificate's Fulcio extensions and matched against the
/// provenance's <c>publisher</c> object. <see cref="Repository"/> is <c>owner/repo</c> (GitHub), the project path
/// (GitLab) or the service account email (Google); <see cref="Workflow"/> is the workflow file name (GitHub,
/// <c>release.yml</c>) or the CI file path (GitLab), null for Google. <see cref="Environment"/> is the deployment
/// environment the index stated (empty counts as none); <see cref="EnvironmentProven"/> says whether the certificate
/// itself carries it (Fulcio OID 1.3.6.1.4.1.57264.1.23).
/// </summary>
public sealed record PublisherIdentity(PublisherKind Kind, string Repository, string? Workflow, string? Environment, bool EnvironmentProven = false)
{
    /// <summary>
    /// The form vetted publishers are written in: <c>github:owner/repo/.github/workflows/file.yml[@environment]</c>,
    /// <c>gitlab:group/project/path/to/file.yml[@environment]</c>, <c>google:service-account-email</c>.
    /// </summary>
    public string Canonical
    {
        get
        {
            var environment = string.IsNullOrEmpty(Environment) ? "" : "@" + Environment;
            return Kind switch
            {
                PublisherKind.GitHub => $"github:{Repository}/.github/workflows/{Workflow}{environment}",
                PublisherKind.GitLab => $"gitlab:{Repository}/{Workflow}{environment}",
                _ => $"google:{Repository}",
            };
        }
    }

    public override string ToString() => Canonical;
}

/// <summary>What one verified attestation proves, kept as evidence (audit record, release page, API).</summary>
/// <param name="PredicateType">The in-toto predicate type (PyPI publish or SLSA provenance).</param>
/// <param name="LogIndex">The transparency log's global index of the entry.</param>
/// <param name="LogOrigin">The log's host, e.g. <c>rekor.sigstore.dev</c>.</param>
/// <param name="SignedAt">The signed time T (the SET's integrated time or an RFC 3161 token's).</param>
/// <param name="SourceRef">Fulcio's Source Repository Ref (.1.14), e.g. <c>refs/tags/v1.0</c>, when present.</param>
/// <param name="SourceDigest">Fulcio's Source Repository Digest (.1.13), the commit, when present.</param>
public sealed record AttestationEvidence(
    string PredicateType,
    long LogIndex,
    string LogOrigin,
    DateTimeOffset SignedAt,
    PublisherIdentity Publisher,
    string? SourceRef,
    string? SourceDigest);

/// <summary>
/// The verdict on one file's provenance document. Verified only when every attestation of every bundle verified;
/// otherwise <see cref="Failure"/> names the first check that failed, precisely enough for an incident.
/// </summary>
public sealed record ProvenanceVerification(bool Verified, string? Failure, IReadOnlyList<AttestationEvidence> Attestations)
{
    public static ProvenanceVerification Failed(string reason) => new(false, reason, []);

    /// <summary>The distinct publishers the verified attestations prove.</summary>
    public IReadOnlyList<PublisherIdentity> Publishers => Attestations.Select(a => a.Publisher).Distinct().ToList();
}
