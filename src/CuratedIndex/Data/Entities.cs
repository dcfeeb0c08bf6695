namespace CuratedIndex.Data;

/// <summary>The kinds of upstream document kept in <see cref="CachedPage"/>.</summary>
public static class PageKind
{
    public const string Simple = "simple";
    public const string Json = "json";

    /// <summary>The root project list; its body lives in the cache directory, the row keeps the validators.</summary>
    public const string Root = "root";
}

/// <summary>
/// The last good upstream document for a key, kept for ETag revalidation and for serving when
/// upstream fails (stale-if-error). Only documents that parsed are stored.
/// </summary>
public sealed class CachedPage
{
    public long Id { get; set; }
    public required string Kind { get; set; }
    public required string Key { get; set; }
    public required string ContentType { get; set; }

    /// <summary>The URL the body was read from (relative links in it resolve against this).</summary>
    public required string SourceUrl { get; set; }

    public required byte[] Body { get; set; }
    public string? ETag { get; set; }
    public string? LastModified { get; set; }
    public long? LastSerial { get; set; }
    public DateTimeOffset FetchedAt { get; set; }
    public DateTimeOffset ValidatedAt { get; set; }
}

/// <summary>A distribution file committed to the artifact store after its sha256 matched the index.</summary>
public sealed class StoredArtifact
{
    public long Id { get; set; }
    public required string Project { get; set; }
    public required string Filename { get; set; }
    public required string Sha256 { get; set; }
    public long Size { get; set; }
    public required string StorageKey { get; set; }
    public DateTimeOffset StoredAt { get; set; }

    /// <summary>When the scrubbing job last re-hashed the stored bytes and found them matching (UTC).</summary>
    public DateTime? VerifiedAt { get; set; }
}

/// <summary>Something that went wrong in a way a person must look at (e.g. upstream bytes that did not match the index).</summary>
public sealed class Incident
{
    public long Id { get; set; }
    public required string Kind { get; set; }
    public required string Project { get; set; }
    public string? Filename { get; set; }
    public required string Detail { get; set; }
    public DateTimeOffset OccurredAt { get; set; }

    /// <summary><see cref="IncidentSeverity"/>: normal, or high for what a person must look at now.</summary>
    public string Severity { get; set; } = IncidentSeverity.Normal;
}

public static class IncidentKind
{
    public const string HashMismatch = "hash-mismatch";

    /// <summary>Upstream now lists a vetted release's pinned file with other bytes (tier 3 never serves them).</summary>
    public const string PinMismatch = "pin-mismatch";
    public const string DependencyConfusion = "dependency-confusion";

    /// <summary>A stored artifact whose bytes no longer match its sha256, found by the scrubbing job.</summary>
    public const string ScrubMismatch = "scrub-mismatch";

    /// <summary>An approved project became PEP 792 <c>quarantined</c> upstream (the upstream watch).</summary>
    public const string UpstreamQuarantined = "upstream-quarantined";

    /// <summary>A reviewer decision without a valid audit record (written around the application); it is not followed.</summary>
    public const string UnverifiedDecision = "unverified-decision";

    /// <summary>A file's PEP 740 provenance did not verify (tampered, wrong file, unknown log, wrong publisher).</summary>
    public const string ProvenanceFailed = "provenance-failed";
}

public static class IncidentSeverity
{
    public const string Normal = "normal";
    public const string High = "high";
}

/// <summary>A typosquat finding, written once per (project, imitated project) when the name is first seen.</summary>
public sealed class StoredTyposquatFinding
{
    public long Id { get; set; }
    public required string Project { get; set; }
    public required string Imitated { get; set; }
    public double Score { get; set; }
    public required string Kind { get; set; }
    public required string Reasons { get; set; }
    public DateTime FirstSeenAt { get; set; }
}

/// <summary>
/// One project waiting for (or having had) a tier 2 review: created by the first request for a project that
/// is not approved, updated by every later one. The current verdict mirrors the newest <see cref="ProjectDecision"/>.
/// </summary>
public sealed class ReviewRequest
{
    public long Id { get; set; }
    public required string Project { get; set; }
    public DateTime FirstRequestedAt { get; set; }
    public DateTime LastRequestedAt { get; set; }
    public long RequestCount { get; set; }

    /// <summary><see cref="Verdict"/> as text: pending, approved, denied or deferred.</summary>
    public required string Status { get; set; }

    /// <summary>0 (no known risk) to 1; typosquat findings raise it (see the queue's risk ordering).</summary>
    public double RiskScore { get; set; }

    public DateTime? DecidedAt { get; set; }
    public List<ReviewRequester> Requesters { get; set; } = [];
}

/// <summary>Who asked for a project from which environment, and how often ("anonymous" when the index is open).</summary>
public sealed class ReviewRequester
{
    public long Id { get; set; }
    public long ReviewRequestId { get; set; }
    public required string Environment { get; set; }
    public required string Requester { get; set; }
    public long RequestCount { get; set; }
    public DateTime FirstRequestedAt { get; set; }
    public DateTime LastRequestedAt { get; set; }
}

/// <summary>A reviewer's verdict on a project. Rows are only ever added: the newest row per project is in force.</summary>
public sealed class ProjectDecision
{
    public long Id { get; set; }
    public required string Project { get; set; }
    public required string Verdict { get; set; }
    public required string Reason { get; set; }
    public required string Actor { get; set; }
    public DateTime DecidedAt { get; set; }

    /// <summary>
    /// The audit record written with this decision, and its hash: a decision takes effect only when that record exists,
    /// still has this hash and describes this decision (a row added without its record is refused, see
    /// <c>CurationStore</c>). Null only on rows from before the check whose record could not be matched.
    /// </summary>
    public long? AuditRecordId { get; set; }

    public string? AuditHash { get; set; }
}

/// <summary>
/// A point up to which the audit chain was verified: the record's id and hash. The next verification continues from it
/// instead of re-reading the whole log, after checking that the record is still there with the same hash.
/// </summary>
public sealed class AuditCheckpoint
{
    public long Id { get; set; }
    public long RecordId { get; set; }
    public required string RecordHash { get; set; }
    public DateTime VerifiedAt { get; set; }
}

/// <summary>
/// One caller's demand for a project from one environment in one <c>Review:DemandWindow</c>: only the first request of a
/// window counts, so one client repeating itself cannot make a project look popular. Rows of past windows are deleted.
/// </summary>
public sealed class DemandMark
{
    public long Id { get; set; }
    public required string Project { get; set; }
    public required string Environment { get; set; }

    /// <summary>SHA-256 of the caller's key (the account, or the client address for anonymous callers), never the address itself.</summary>
    public required string Caller { get; set; }

    public DateTime WindowStart { get; set; }
}

/// <summary>A local account of the review UI and API.</summary>
public sealed class UserAccount
{
    public long Id { get; set; }
    public required string UserName { get; set; }
    public required string PasswordHash { get; set; }
    public required string Role { get; set; }
    public bool Disabled { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>Changes whenever the password, role or status changes, so existing sign-in cookies stop working.</summary>
    public required string SecurityStamp { get; set; }
}

/// <summary>
/// A UI session ended by signing out: a cookie naming it is refused from then on (a copy taken before sign-out too). Kept
/// until the cookie could no longer be valid anyway (<see cref="ExpiresAt"/>, the sign-out plus <c>Auth:SessionLifetime</c>).
/// </summary>
public sealed class EndedSession
{
    public long Id { get; set; }
    public required string SessionId { get; set; }
    public long UserId { get; set; }
    public DateTime EndedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}

/// <summary>A bearer token for the API and for token-protected indexes. Only its SHA-256 is stored.</summary>
public sealed class ApiToken
{
    public long Id { get; set; }
    public long UserId { get; set; }
    public required string Name { get; set; }
    public required string TokenHash { get; set; }

    /// <summary>The first characters of the token, so a person can tell tokens apart.</summary>
    public required string Prefix { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    public UserAccount? User { get; set; }
}

/// <summary>
/// One entry of the append-only audit log. <see cref="Hash"/> covers every field and the previous record's
/// hash, so a deleted, inserted or altered record breaks the chain (<c>curated-index audit verify</c>).
/// </summary>
public sealed class AuditRecord
{
    public long Id { get; set; }
    public DateTime OccurredAt { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public required string Subject { get; set; }
    public required string Reason { get; set; }
    public required string PreviousHash { get; set; }
    public required string Hash { get; set; }
}

/// <summary>Index requests per day, environment and outcome (served or blocked), for the dashboard.</summary>
public sealed class DailyRequestCount
{
    public long Id { get; set; }
    public DateOnly Day { get; set; }
    public required string Environment { get; set; }
    public required string Outcome { get; set; }
    public long Count { get; set; }
}

/// <summary>One execution of a background job on one node, written by the job listener for every job.</summary>
public sealed class JobRun
{
    public long Id { get; set; }
    public required string JobKey { get; set; }
    public required string Node { get; set; }

    /// <summary><c>schedule</c>, or <c>manual:{user}</c> for a run an admin triggered.</summary>
    public required string StartedBy { get; set; }

    public required string Status { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }

    /// <summary>0..1 while a long job reports progress.</summary>
    public double? Progress { get; set; }

    public string? ProgressText { get; set; }
    public string? Message { get; set; }
}

public static class JobRunState
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

/// <summary>An approved project the upstream watch follows: what it saw upstream last time.</summary>
public sealed class WatchedProject
{
    public long Id { get; set; }
    public required string Project { get; set; }
    public long? LastSerial { get; set; }
    public string? ETag { get; set; }

    /// <summary>PEP 792 status upstream (active when upstream sent none), or <c>not-found</c> when upstream has no page.</summary>
    public required string Status { get; set; }

    public DateTime CheckedAt { get; set; }
}

/// <summary>A file of an approved project as the upstream watch saw it; rows are kept after the file leaves upstream.</summary>
public sealed class UpstreamFile
{
    public long Id { get; set; }
    public required string Project { get; set; }
    public required string Filename { get; set; }
    public string? Version { get; set; }
    public string? Sha256 { get; set; }

    /// <summary>PEP 700 upload time exactly as upstream wrote it.</summary>
    public string? UploadTime { get; set; }

    /// <summary>PEP 700 size in bytes, when upstream gave it.</summary>
    public long? Size { get; set; }

    /// <summary>When CuratedIndex first saw the file upstream.</summary>
    public DateTime FirstSeenAt { get; set; }

    /// <summary>When the file was first missing upstream; null while upstream lists it.</summary>
    public DateTime? RemovedAt { get; set; }

    public bool Yanked { get; set; }
}

/// <summary>
/// A decision about one release for tier 3: vetted (with the files it pins, <see cref="VettedFile"/>) or rejected. Rows are
/// only ever added (triggers refuse updates and deletes): the newest row per (project, version) is in force. Like a
/// <see cref="ProjectDecision"/>, a row takes effect only with a matching audit record written in the same transaction.
/// </summary>
public sealed class ReleaseDecision
{
    public long Id { get; set; }
    public required string Project { get; set; }

    /// <summary>The PEP 440 normalized version.</summary>
    public required string Version { get; set; }

    /// <summary><c>vetted</c> or <c>rejected</c>.</summary>
    public required string Verdict { get; set; }

    /// <summary><c>safe-to-deploy</c> or <c>safe-to-run</c> for a vetting; null for a rejection.</summary>
    public string? Criteria { get; set; }

    /// <summary>How the release was decided: <c>reviewer</c>, <c>policy</c>, <c>import</c> (later <c>auto</c>).</summary>
    public required string How { get; set; }

    public required string Actor { get; set; }
    public required string Reason { get; set; }

    /// <summary>Vetted by an admin inside the release's cooldown.</summary>
    public bool BreakGlass { get; set; }

    /// <summary>For an imported vetting: the organization whose audits file it came from.</summary>
    public string? Source { get; set; }

    /// <summary>When the release's cooldown started: the later of upstream's upload time and CuratedIndex's first sight.</summary>
    public DateTime? ReleasedAt { get; set; }

    public DateTime DecidedAt { get; set; }
    public long? AuditRecordId { get; set; }
    public string? AuditHash { get; set; }
    public List<VettedFile> Files { get; set; } = [];
}

/// <summary>A file pinned by a vetting: tier 3 lists and serves exactly these bytes.</summary>
public sealed class VettedFile
{
    public long Id { get; set; }
    public long ReleaseDecisionId { get; set; }
    public required string Filename { get; set; }
    public required string Sha256 { get; set; }
    public long Size { get; set; }

    /// <summary>The sha256 of the file's PEP 658 metadata as upstream listed it when vetted; null when none was offered.</summary>
    public string? MetadataSha256 { get; set; }
}

/// <summary>
/// A release as CuratedIndex first saw it (the upstream watch, or the first tier 3 request): the start of its cooldown and
/// the moment its anomaly signals were computed.
/// </summary>
public sealed class SeenRelease
{
    public long Id { get; set; }
    public required string Project { get; set; }

    /// <summary>The PEP 440 normalized version.</summary>
    public required string Version { get; set; }

    public DateTime FirstSeenAt { get; set; }

    /// <summary>The earliest PEP 700 upload time upstream gave for the release's files, if any.</summary>
    public DateTime? UploadedAt { get; set; }

    /// <summary>Author and maintainer entries from the JSON API when the release was first seen, one per line; null when unknown.</summary>
    public string? Roster { get; set; }
}

/// <summary>An anomaly signal about a release, with the evidence a reviewer reads. It stops policy and automatic vetting.</summary>
public sealed class ReleaseSignal
{
    public long Id { get; set; }
    public required string Project { get; set; }
    public required string Version { get; set; }
    public required string Kind { get; set; }
    public required string Evidence { get; set; }
    public DateTime DetectedAt { get; set; }
}

/// <summary>Demand for a release that tier 3 does not show: created by the first request for it, counted like tier 2 demand.</summary>
public sealed class ReleaseRequest
{
    public long Id { get; set; }
    public required string Project { get; set; }
    public required string Version { get; set; }
    public DateTime FirstRequestedAt { get; set; }
    public DateTime LastRequestedAt { get; set; }
    public long RequestCount { get; set; }

    /// <summary>The tier 3 environment that asked; one row per (project, version, environment).</summary>
    public required string Environment { get; set; }
}

/// <summary>
/// The PEP 740 provenance of one distribution file (by name and sha256) as CuratedIndex fetched and verified it. One row per
/// (project, filename, sha256), checked again in place when the trusted root changes or a document could not be fetched.
/// </summary>
public sealed class FileProvenance
{
    public long Id { get; set; }
    public required string Project { get; set; }

    /// <summary>The PEP 440 normalized version, as upstream spells it.</summary>
    public required string Version { get; set; }

    public required string Filename { get; set; }
    public required string Sha256 { get; set; }

    /// <summary><see cref="ProvenanceStateText"/>: verified, failed, none (upstream offers none) or unavailable (could not be fetched).</summary>
    public required string State { get; set; }

    /// <summary>The publishers the verified attestations prove, canonical form, one per line.</summary>
    public string? Publishers { get; set; }

    /// <summary>Per attestation: publisher, log origin and index, signed time, source ref and digest (JSON).</summary>
    public string? Evidence { get; set; }

    /// <summary>Why verification failed or the document could not be fetched.</summary>
    public string? Failure { get; set; }

    /// <summary>The provenance document exactly as upstream served it; tier 3 serves it only when verified.</summary>
    public byte[]? Document { get; set; }

    /// <summary>The sha256 of the trusted root it was checked against (first 16 hex digits).</summary>
    public string? TrustedRoot { get; set; }

    public DateTime CheckedAt { get; set; }
}

public static class ProvenanceStateText
{
    public const string Verified = "verified";
    public const string Failed = "failed";
    public const string None = "none";
    public const string Unavailable = "unavailable";
}

/// <summary>
/// A reviewer's decision about one vetted publisher of a project (<c>vet</c> or <c>remove</c>). Rows are only ever added
/// (triggers refuse updates and deletes): the newest row per (project, publisher) is in force, and only with the matching
/// audit record written in the same transaction. Publishers from policy files are not stored here.
/// </summary>
public sealed class PublisherDecision
{
    public long Id { get; set; }
    public required string Project { get; set; }

    /// <summary>The entry in its canonical text, e.g. <c>github:owner/repo/.github/workflows/release.yml</c>.</summary>
    public required string Publisher { get; set; }

    public DateOnly? From { get; set; }
    public DateOnly? Until { get; set; }

    /// <summary><c>vet</c> or <c>remove</c>.</summary>
    public required string Action { get; set; }

    public required string Actor { get; set; }
    public required string Reason { get; set; }
    public DateTime DecidedAt { get; set; }
    public long? AuditRecordId { get; set; }
    public string? AuditHash { get; set; }
}

/// <summary>
/// The dependency fields of one distribution file's core metadata (PEP 658 <c>.metadata</c>, a wheel's METADATA or an
/// sdist's PKG-INFO), read once from the verified bytes. Keyed by the file's sha256: the same bytes always give the same
/// metadata, so a row never goes stale. A file whose metadata cannot be used (a bad archive, dynamic sdist metadata) is
/// kept with its <see cref="Problem"/>, so it is not downloaded again.
/// </summary>
public sealed class StoredCoreMetadata
{
    /// <summary>The distribution file's sha256 (lower-case hex).</summary>
    public required string Sha256 { get; set; }

    public required string Project { get; set; }
    public required string Version { get; set; }
    public required string Filename { get; set; }

    /// <summary>pep658, wheel or sdist.</summary>
    public required string Source { get; set; }

    /// <summary>The Requires-Dist lines, one per line, as written.</summary>
    public string? RequiresDist { get; set; }

    public string? RequiresPython { get; set; }

    /// <summary>Why the dependencies cannot be read from this file, or null.</summary>
    public string? Problem { get; set; }

    public DateTime ReadAt { get; set; }
}

/// <summary>
/// A computed dependency closure (JSON), one row per (project, version asked, extras, targets): what the review queue and
/// other nodes read without asking upstream. Replaced when computed again.
/// </summary>
public sealed class StoredClosure
{
    public long Id { get; set; }

    /// <summary>sha256 of project, version asked (empty: newest), extras and targets.</summary>
    public required string Key { get; set; }

    public required string Project { get; set; }

    /// <summary>The version asked for; empty when the newest release was asked for.</summary>
    public required string RequestedVersion { get; set; }

    public required string Document { get; set; }
    public DateTime ComputedAt { get; set; }
}

/// <summary>One sign-in attempt from a client address (or IPv6 /64), kept for a minute and counted by every node.</summary>
public sealed class SignInAttempt
{
    public long Id { get; set; }

    public required string Bucket { get; set; }

    /// <summary>When, in milliseconds since the Unix epoch (UTC).</summary>
    public long AtMilliseconds { get; set; }
}
