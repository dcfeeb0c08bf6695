using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CuratedIndex.Data;

/// <summary>One model for both providers; <see cref="SqliteCuratedIndexDbContext"/> and <see cref="PostgresCuratedIndexDbContext"/> own the migrations.</summary>
public abstract class CuratedIndexDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>ASP.NET Core's data-protection key ring (sign-in cookies, antiforgery tokens), shared by every node.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<SignInAttempt> SignInAttempts => Set<SignInAttempt>();

    public DbSet<CachedPage> CachedPages => Set<CachedPage>();
    public DbSet<StoredArtifact> StoredArtifacts => Set<StoredArtifact>();
    public DbSet<Incident> Incidents => Set<Incident>();
    public DbSet<ReviewRequest> ReviewRequests => Set<ReviewRequest>();
    public DbSet<ReviewRequester> ReviewRequesters => Set<ReviewRequester>();
    public DbSet<ProjectDecision> ProjectDecisions => Set<ProjectDecision>();
    public DbSet<UserAccount> Users => Set<UserAccount>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<AuditRecord> AuditRecords => Set<AuditRecord>();
    public DbSet<DailyRequestCount> DailyRequestCounts => Set<DailyRequestCount>();
    public DbSet<JobRun> JobRuns => Set<JobRun>();
    public DbSet<WatchedProject> WatchedProjects => Set<WatchedProject>();
    public DbSet<UpstreamFile> UpstreamFiles => Set<UpstreamFile>();
    public DbSet<StoredTyposquatFinding> TyposquatFindings => Set<StoredTyposquatFinding>();
    public DbSet<AuditCheckpoint> AuditCheckpoints => Set<AuditCheckpoint>();
    public DbSet<DemandMark> DemandMarks => Set<DemandMark>();
    public DbSet<EndedSession> EndedSessions => Set<EndedSession>();
    public DbSet<ReleaseDecision> ReleaseDecisions => Set<ReleaseDecision>();
    public DbSet<VettedFile> VettedFiles => Set<VettedFile>();
    public DbSet<SeenRelease> SeenReleases => Set<SeenRelease>();
    public DbSet<ReleaseSignal> ReleaseSignals => Set<ReleaseSignal>();
    public DbSet<ReleaseRequest> ReleaseRequests => Set<ReleaseRequest>();
    public DbSet<FileProvenance> FileProvenances => Set<FileProvenance>();
    public DbSet<PublisherDecision> PublisherDecisions => Set<PublisherDecision>();
    public DbSet<StoredCoreMetadata> CoreMetadata => Set<StoredCoreMetadata>();
    public DbSet<StoredClosure> Closures => Set<StoredClosure>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfiguration(new CachedPageConfiguration());
        modelBuilder.ApplyConfiguration(new StoredArtifactConfiguration());
        modelBuilder.ApplyConfiguration(new IncidentConfiguration());
        modelBuilder.ApplyConfiguration(new ReviewRequestConfiguration());
        modelBuilder.ApplyConfiguration(new ReviewRequesterConfiguration());
        modelBuilder.ApplyConfiguration(new ProjectDecisionConfiguration());
        modelBuilder.ApplyConfiguration(new UserAccountConfiguration());
        modelBuilder.ApplyConfiguration(new ApiTokenConfiguration());
        modelBuilder.ApplyConfiguration(new AuditRecordConfiguration());
        modelBuilder.ApplyConfiguration(new DailyRequestCountConfiguration());
        modelBuilder.ApplyConfiguration(new JobRunConfiguration());
        modelBuilder.ApplyConfiguration(new WatchedProjectConfiguration());
        modelBuilder.ApplyConfiguration(new UpstreamFileConfiguration());
        modelBuilder.ApplyConfiguration(new TyposquatFindingConfiguration());
        modelBuilder.ApplyConfiguration(new AuditCheckpointConfiguration());
        modelBuilder.ApplyConfiguration(new DemandMarkConfiguration());
        modelBuilder.ApplyConfiguration(new EndedSessionConfiguration());
        modelBuilder.ApplyConfiguration(new ReleaseDecisionConfiguration());
        modelBuilder.ApplyConfiguration(new VettedFileConfiguration());
        modelBuilder.ApplyConfiguration(new SeenReleaseConfiguration());
        modelBuilder.ApplyConfiguration(new ReleaseSignalConfiguration());
        modelBuilder.ApplyConfiguration(new ReleaseRequestConfiguration());
        modelBuilder.ApplyConfiguration(new FileProvenanceConfiguration());
        modelBuilder.ApplyConfiguration(new PublisherDecisionConfiguration());
        modelBuilder.ApplyConfiguration(new CoreMetadataConfiguration());
        modelBuilder.ApplyConfiguration(new ClosureConfiguration());
        modelBuilder.ApplyConfiguration(new DataProtectionKeyConfiguration());
        modelBuilder.ApplyConfiguration(new SignInAttemptConfiguration());
    }

    private sealed class SignInAttemptConfiguration : IEntityTypeConfiguration<SignInAttempt>
    {
        public void Configure(EntityTypeBuilder<SignInAttempt> builder)
        {
            builder.ToTable("sign_in_attempts");
            builder.HasKey(a => a.Id).HasName("pk_sign_in_attempts");
            builder.Property(a => a.Id).HasColumnName("id");
            builder.Property(a => a.Bucket).HasColumnName("bucket").HasMaxLength(64);
            builder.Property(a => a.AtMilliseconds).HasColumnName("at_ms");
            builder.HasIndex(a => new { a.Bucket, a.AtMilliseconds }).HasDatabaseName("ix_sign_in_attempts_bucket_at_ms");
        }
    }

    private sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
    {
        public void Configure(EntityTypeBuilder<DataProtectionKey> builder)
        {
            builder.ToTable("data_protection_keys");
            builder.HasKey(k => k.Id).HasName("pk_data_protection_keys");
            builder.Property(k => k.Id).HasColumnName("id");
            builder.Property(k => k.FriendlyName).HasColumnName("friendly_name");
            builder.Property(k => k.Xml).HasColumnName("xml");
        }
    }

    private sealed class CoreMetadataConfiguration : IEntityTypeConfiguration<StoredCoreMetadata>
    {
        public void Configure(EntityTypeBuilder<StoredCoreMetadata> builder)
        {
            builder.ToTable("core_metadata");
            builder.HasKey(m => m.Sha256).HasName("pk_core_metadata");
            builder.Property(m => m.Sha256).HasColumnName("sha256").HasMaxLength(64);
            builder.Property(m => m.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(m => m.Version).HasColumnName("version").HasMaxLength(128);
            builder.Property(m => m.Filename).HasColumnName("filename").HasMaxLength(255);
            builder.Property(m => m.Source).HasColumnName("source").HasMaxLength(16);
            builder.Property(m => m.RequiresDist).HasColumnName("requires_dist");
            builder.Property(m => m.RequiresPython).HasColumnName("requires_python").HasMaxLength(1024);
            builder.Property(m => m.Problem).HasColumnName("problem").HasMaxLength(2000);
            builder.Property(m => m.ReadAt).HasColumnName("read_at");
        }
    }

    private sealed class ClosureConfiguration : IEntityTypeConfiguration<StoredClosure>
    {
        public void Configure(EntityTypeBuilder<StoredClosure> builder)
        {
            builder.ToTable("dependency_closures");
            builder.Property(c => c.Id).HasColumnName("id");
            builder.Property(c => c.Key).HasColumnName("key").HasMaxLength(64);
            builder.Property(c => c.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(c => c.RequestedVersion).HasColumnName("requested_version").HasMaxLength(128);
            builder.Property(c => c.Document).HasColumnName("document");
            builder.Property(c => c.ComputedAt).HasColumnName("computed_at");
            builder.HasIndex(c => c.Key).IsUnique().HasDatabaseName("ix_dependency_closures_key");
            builder.HasIndex(c => c.Project).HasDatabaseName("ix_dependency_closures_project");
        }
    }

    private sealed class CachedPageConfiguration : IEntityTypeConfiguration<CachedPage>
    {
        public void Configure(EntityTypeBuilder<CachedPage> builder)
        {
            builder.ToTable("cached_pages");
            builder.Property(p => p.Id).HasColumnName("id");
            builder.Property(p => p.Kind).HasColumnName("kind").HasMaxLength(16);
            builder.Property(p => p.Key).HasColumnName("key").HasMaxLength(512);
            builder.Property(p => p.ContentType).HasColumnName("content_type").HasMaxLength(128);
            builder.Property(p => p.SourceUrl).HasColumnName("source_url").HasMaxLength(2048);
            builder.Property(p => p.Body).HasColumnName("body");
            builder.Property(p => p.ETag).HasColumnName("etag").HasMaxLength(512);
            builder.Property(p => p.LastModified).HasColumnName("last_modified").HasMaxLength(64);
            builder.Property(p => p.LastSerial).HasColumnName("last_serial");
            builder.Property(p => p.FetchedAt).HasColumnName("fetched_at");
            builder.Property(p => p.ValidatedAt).HasColumnName("validated_at");
            builder.HasIndex(p => new { p.Kind, p.Key }).IsUnique().HasDatabaseName("ix_cached_pages_kind_key");
        }
    }

    private sealed class StoredArtifactConfiguration : IEntityTypeConfiguration<StoredArtifact>
    {
        public void Configure(EntityTypeBuilder<StoredArtifact> builder)
        {
            builder.ToTable("stored_artifacts");
            builder.Property(a => a.Id).HasColumnName("id");
            builder.Property(a => a.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(a => a.Filename).HasColumnName("filename").HasMaxLength(255);
            builder.Property(a => a.Sha256).HasColumnName("sha256").HasMaxLength(64);
            builder.Property(a => a.Size).HasColumnName("size");
            builder.Property(a => a.StorageKey).HasColumnName("storage_key").HasMaxLength(512);
            builder.Property(a => a.StoredAt).HasColumnName("stored_at");
            builder.Property(a => a.VerifiedAt).HasColumnName("verified_at");
            builder.HasIndex(a => a.VerifiedAt).HasDatabaseName("ix_stored_artifacts_verified_at");
            // One row per stored object: the same filename may be stored under two keys (upstream changed its bytes).
            builder.HasIndex(a => a.StorageKey).IsUnique().HasDatabaseName("ix_stored_artifacts_storage_key");
            builder.HasIndex(a => a.Filename).HasDatabaseName("ix_stored_artifacts_filename");
            builder.HasIndex(a => a.Project).HasDatabaseName("ix_stored_artifacts_project");
        }
    }

    private sealed class IncidentConfiguration : IEntityTypeConfiguration<Incident>
    {
        public void Configure(EntityTypeBuilder<Incident> builder)
        {
            builder.ToTable("incidents");
            builder.Property(i => i.Id).HasColumnName("id");
            builder.Property(i => i.Kind).HasColumnName("kind").HasMaxLength(64);
            builder.Property(i => i.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(i => i.Filename).HasColumnName("filename").HasMaxLength(255);
            builder.Property(i => i.Detail).HasColumnName("detail").HasMaxLength(2000);
            builder.Property(i => i.OccurredAt).HasColumnName("occurred_at");
            builder.Property(i => i.Severity).HasColumnName("severity").HasMaxLength(16).HasDefaultValue(IncidentSeverity.Normal);
            builder.HasIndex(i => new { i.Kind, i.Project }).HasDatabaseName("ix_incidents_kind_project");
        }
    }

    private sealed class ReviewRequestConfiguration : IEntityTypeConfiguration<ReviewRequest>
    {
        public void Configure(EntityTypeBuilder<ReviewRequest> builder)
        {
            builder.ToTable("review_requests");
            builder.Property(r => r.Id).HasColumnName("id");
            builder.Property(r => r.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(r => r.FirstRequestedAt).HasColumnName("first_requested_at");
            builder.Property(r => r.LastRequestedAt).HasColumnName("last_requested_at");
            builder.Property(r => r.RequestCount).HasColumnName("request_count");
            builder.Property(r => r.Status).HasColumnName("status").HasMaxLength(16);
            builder.Property(r => r.RiskScore).HasColumnName("risk_score");
            builder.Property(r => r.DecidedAt).HasColumnName("decided_at");
            builder.HasIndex(r => r.Project).IsUnique().HasDatabaseName("ix_review_requests_project");
            builder.HasIndex(r => r.Status).HasDatabaseName("ix_review_requests_status");
            builder.HasMany(r => r.Requesters).WithOne().HasForeignKey(r => r.ReviewRequestId).HasConstraintName("fk_review_requesters_review_requests");
        }
    }

    private sealed class ReviewRequesterConfiguration : IEntityTypeConfiguration<ReviewRequester>
    {
        public void Configure(EntityTypeBuilder<ReviewRequester> builder)
        {
            builder.ToTable("review_requesters");
            builder.Property(r => r.Id).HasColumnName("id");
            builder.Property(r => r.ReviewRequestId).HasColumnName("review_request_id");
            builder.Property(r => r.Environment).HasColumnName("environment").HasMaxLength(64);
            builder.Property(r => r.Requester).HasColumnName("requester").HasMaxLength(128);
            builder.Property(r => r.RequestCount).HasColumnName("request_count");
            builder.Property(r => r.FirstRequestedAt).HasColumnName("first_requested_at");
            builder.Property(r => r.LastRequestedAt).HasColumnName("last_requested_at");
            builder.HasIndex(r => new { r.ReviewRequestId, r.Environment, r.Requester }).IsUnique().HasDatabaseName("ix_review_requesters_request_environment_requester");
        }
    }

    private sealed class ProjectDecisionConfiguration : IEntityTypeConfiguration<ProjectDecision>
    {
        public void Configure(EntityTypeBuilder<ProjectDecision> builder)
        {
            builder.ToTable("project_decisions");
            builder.Property(d => d.Id).HasColumnName("id");
            builder.Property(d => d.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(d => d.Verdict).HasColumnName("verdict").HasMaxLength(16);
            builder.Property(d => d.Reason).HasColumnName("reason").HasMaxLength(2000);
            builder.Property(d => d.Actor).HasColumnName("actor").HasMaxLength(128);
            builder.Property(d => d.DecidedAt).HasColumnName("decided_at");
            builder.Property(d => d.AuditRecordId).HasColumnName("audit_record_id");
            builder.Property(d => d.AuditHash).HasColumnName("audit_hash").HasMaxLength(64);
            builder.HasIndex(d => d.Project).HasDatabaseName("ix_project_decisions_project");
            // One audit record backs one decision: an old approval's record cannot be replayed under a new row.
            builder.HasIndex(d => d.AuditRecordId).IsUnique().HasDatabaseName("ix_project_decisions_audit_record_id");
        }
    }

    private sealed class UserAccountConfiguration : IEntityTypeConfiguration<UserAccount>
    {
        public void Configure(EntityTypeBuilder<UserAccount> builder)
        {
            builder.ToTable("users");
            builder.Property(u => u.Id).HasColumnName("id");
            builder.Property(u => u.UserName).HasColumnName("user_name").HasMaxLength(64);
            builder.Property(u => u.PasswordHash).HasColumnName("password_hash").HasMaxLength(512);
            builder.Property(u => u.Role).HasColumnName("role").HasMaxLength(16);
            builder.Property(u => u.Disabled).HasColumnName("disabled");
            builder.Property(u => u.CreatedAt).HasColumnName("created_at");
            builder.Property(u => u.SecurityStamp).HasColumnName("security_stamp").HasMaxLength(64);
            builder.HasIndex(u => u.UserName).IsUnique().HasDatabaseName("ix_users_user_name");
        }
    }

    private sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
    {
        public void Configure(EntityTypeBuilder<ApiToken> builder)
        {
            builder.ToTable("api_tokens");
            builder.Property(t => t.Id).HasColumnName("id");
            builder.Property(t => t.UserId).HasColumnName("user_id");
            builder.Property(t => t.Name).HasColumnName("name").HasMaxLength(100);
            builder.Property(t => t.TokenHash).HasColumnName("token_hash").HasMaxLength(64);
            builder.Property(t => t.Prefix).HasColumnName("prefix").HasMaxLength(16);
            builder.Property(t => t.CreatedAt).HasColumnName("created_at");
            builder.Property(t => t.LastUsedAt).HasColumnName("last_used_at");
            builder.Property(t => t.RevokedAt).HasColumnName("revoked_at");
            builder.HasIndex(t => t.TokenHash).IsUnique().HasDatabaseName("ix_api_tokens_token_hash");
            builder.HasIndex(t => t.UserId).HasDatabaseName("ix_api_tokens_user_id");
            builder.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).HasConstraintName("fk_api_tokens_users");
        }
    }

    private sealed class AuditRecordConfiguration : IEntityTypeConfiguration<AuditRecord>
    {
        public void Configure(EntityTypeBuilder<AuditRecord> builder)
        {
            builder.ToTable("audit_records");
            // Ids are assigned by the audit log itself (previous id + 1) so that a gap is visible.
            builder.Property(a => a.Id).HasColumnName("id").ValueGeneratedNever();
            builder.Property(a => a.OccurredAt).HasColumnName("occurred_at");
            builder.Property(a => a.Actor).HasColumnName("actor").HasMaxLength(128);
            builder.Property(a => a.Action).HasColumnName("action").HasMaxLength(64);
            builder.Property(a => a.Subject).HasColumnName("subject").HasMaxLength(256);
            builder.Property(a => a.Reason).HasColumnName("reason").HasMaxLength(2000);
            builder.Property(a => a.PreviousHash).HasColumnName("previous_hash").HasMaxLength(64);
            builder.Property(a => a.Hash).HasColumnName("hash").HasMaxLength(64);
            builder.HasIndex(a => a.PreviousHash).IsUnique().HasDatabaseName("ix_audit_records_previous_hash");
        }
    }

    private sealed class DailyRequestCountConfiguration : IEntityTypeConfiguration<DailyRequestCount>
    {
        public void Configure(EntityTypeBuilder<DailyRequestCount> builder)
        {
            builder.ToTable("daily_request_counts");
            builder.Property(c => c.Id).HasColumnName("id");
            builder.Property(c => c.Day).HasColumnName("day");
            builder.Property(c => c.Environment).HasColumnName("environment").HasMaxLength(64);
            builder.Property(c => c.Outcome).HasColumnName("outcome").HasMaxLength(16);
            builder.Property(c => c.Count).HasColumnName("count");
            builder.HasIndex(c => new { c.Day, c.Environment, c.Outcome }).IsUnique().HasDatabaseName("ix_daily_request_counts_day_environment_outcome");
        }
    }

    private sealed class JobRunConfiguration : IEntityTypeConfiguration<JobRun>
    {
        public void Configure(EntityTypeBuilder<JobRun> builder)
        {
            builder.ToTable("job_runs");
            builder.Property(r => r.Id).HasColumnName("id");
            builder.Property(r => r.JobKey).HasColumnName("job_key").HasMaxLength(100);
            builder.Property(r => r.Node).HasColumnName("node").HasMaxLength(200);
            builder.Property(r => r.StartedBy).HasColumnName("started_by").HasMaxLength(128);
            builder.Property(r => r.Status).HasColumnName("status").HasMaxLength(16);
            builder.Property(r => r.StartedAt).HasColumnName("started_at");
            builder.Property(r => r.FinishedAt).HasColumnName("finished_at");
            builder.Property(r => r.Progress).HasColumnName("progress");
            builder.Property(r => r.ProgressText).HasColumnName("progress_text").HasMaxLength(200);
            builder.Property(r => r.Message).HasColumnName("message").HasMaxLength(2000);
            builder.HasIndex(r => new { r.JobKey, r.Id }).HasDatabaseName("ix_job_runs_job_key_id");
        }
    }

    private sealed class WatchedProjectConfiguration : IEntityTypeConfiguration<WatchedProject>
    {
        public void Configure(EntityTypeBuilder<WatchedProject> builder)
        {
            builder.ToTable("watched_projects");
            builder.Property(w => w.Id).HasColumnName("id");
            builder.Property(w => w.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(w => w.LastSerial).HasColumnName("last_serial");
            builder.Property(w => w.ETag).HasColumnName("etag").HasMaxLength(512);
            builder.Property(w => w.Status).HasColumnName("status").HasMaxLength(32);
            builder.Property(w => w.CheckedAt).HasColumnName("checked_at");
            builder.HasIndex(w => w.Project).IsUnique().HasDatabaseName("ix_watched_projects_project");
        }
    }

    private sealed class UpstreamFileConfiguration : IEntityTypeConfiguration<UpstreamFile>
    {
        public void Configure(EntityTypeBuilder<UpstreamFile> builder)
        {
            builder.ToTable("upstream_files");
            builder.Property(f => f.Id).HasColumnName("id");
            builder.Property(f => f.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(f => f.Filename).HasColumnName("filename").HasMaxLength(255);
            builder.Property(f => f.Version).HasColumnName("version").HasMaxLength(128);
            builder.Property(f => f.Sha256).HasColumnName("sha256").HasMaxLength(64);
            builder.Property(f => f.UploadTime).HasColumnName("upload_time").HasMaxLength(40);
            builder.Property(f => f.Size).HasColumnName("size");
            builder.Property(f => f.FirstSeenAt).HasColumnName("first_seen_at");
            builder.Property(f => f.RemovedAt).HasColumnName("removed_at");
            builder.Property(f => f.Yanked).HasColumnName("yanked");
            builder.HasIndex(f => new { f.Project, f.Filename }).IsUnique().HasDatabaseName("ix_upstream_files_project_filename");
        }
    }

    private sealed class TyposquatFindingConfiguration : IEntityTypeConfiguration<StoredTyposquatFinding>
    {
        public void Configure(EntityTypeBuilder<StoredTyposquatFinding> builder)
        {
            builder.ToTable("typosquat_findings");
            builder.Property(f => f.Id).HasColumnName("id");
            builder.Property(f => f.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(f => f.Imitated).HasColumnName("imitated").HasMaxLength(200);
            builder.Property(f => f.Score).HasColumnName("score");
            builder.Property(f => f.Kind).HasColumnName("kind").HasMaxLength(32);
            builder.Property(f => f.Reasons).HasColumnName("reasons").HasMaxLength(2000);
            builder.Property(f => f.FirstSeenAt).HasColumnName("first_seen_at");
            builder.HasIndex(f => new { f.Project, f.Imitated }).IsUnique().HasDatabaseName("ix_typosquat_findings_project_imitated");
        }
    }

    private sealed class AuditCheckpointConfiguration : IEntityTypeConfiguration<AuditCheckpoint>
    {
        public void Configure(EntityTypeBuilder<AuditCheckpoint> builder)
        {
            builder.ToTable("audit_checkpoints");
            builder.Property(c => c.Id).HasColumnName("id");
            builder.Property(c => c.RecordId).HasColumnName("record_id");
            builder.Property(c => c.RecordHash).HasColumnName("record_hash").HasMaxLength(64);
            builder.Property(c => c.VerifiedAt).HasColumnName("verified_at");
            builder.HasIndex(c => c.RecordId).HasDatabaseName("ix_audit_checkpoints_record_id");
        }
    }

    private sealed class EndedSessionConfiguration : IEntityTypeConfiguration<EndedSession>
    {
        public void Configure(EntityTypeBuilder<EndedSession> builder)
        {
            builder.ToTable("ended_sessions");
            builder.Property(s => s.Id).HasColumnName("id");
            builder.Property(s => s.SessionId).HasColumnName("session_id").HasMaxLength(64);
            builder.Property(s => s.UserId).HasColumnName("user_id");
            builder.Property(s => s.EndedAt).HasColumnName("ended_at");
            builder.Property(s => s.ExpiresAt).HasColumnName("expires_at");
            builder.HasIndex(s => s.SessionId).IsUnique().HasDatabaseName("ix_ended_sessions_session_id");
            builder.HasIndex(s => s.ExpiresAt).HasDatabaseName("ix_ended_sessions_expires_at");
        }
    }

    private sealed class DemandMarkConfiguration : IEntityTypeConfiguration<DemandMark>
    {
        public void Configure(EntityTypeBuilder<DemandMark> builder)
        {
            builder.ToTable("demand_marks");
            builder.Property(m => m.Id).HasColumnName("id");
            builder.Property(m => m.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(m => m.Environment).HasColumnName("environment").HasMaxLength(64);
            builder.Property(m => m.Caller).HasColumnName("caller").HasMaxLength(64);
            builder.Property(m => m.WindowStart).HasColumnName("window_start");
            builder.HasIndex(m => new { m.Project, m.Environment, m.Caller, m.WindowStart }).IsUnique().HasDatabaseName("ix_demand_marks_project_environment_caller_window");
            builder.HasIndex(m => m.WindowStart).HasDatabaseName("ix_demand_marks_window_start");
        }
    }
    private sealed class ReleaseDecisionConfiguration : IEntityTypeConfiguration<ReleaseDecision>
    {
        public void Configure(EntityTypeBuilder<ReleaseDecision> builder)
        {
            builder.ToTable("release_decisions");
            builder.Property(d => d.Id).HasColumnName("id");
            builder.Property(d => d.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(d => d.Version).HasColumnName("version").HasMaxLength(128);
            builder.Property(d => d.Verdict).HasColumnName("verdict").HasMaxLength(16);
            builder.Property(d => d.Criteria).HasColumnName("criteria").HasMaxLength(32);
            builder.Property(d => d.How).HasColumnName("how").HasMaxLength(16);
            builder.Property(d => d.Actor).HasColumnName("actor").HasMaxLength(128);
            builder.Property(d => d.Reason).HasColumnName("reason").HasMaxLength(2000);
            builder.Property(d => d.BreakGlass).HasColumnName("break_glass");
            builder.Property(d => d.Source).HasColumnName("source").HasMaxLength(200);
            builder.Property(d => d.ReleasedAt).HasColumnName("released_at");
            builder.Property(d => d.DecidedAt).HasColumnName("decided_at");
            builder.Property(d => d.AuditRecordId).HasColumnName("audit_record_id");
            builder.Property(d => d.AuditHash).HasColumnName("audit_hash").HasMaxLength(64);
            builder.HasIndex(d => new { d.Project, d.Version }).HasDatabaseName("ix_release_decisions_project_version");
            builder.HasIndex(d => d.AuditRecordId).IsUnique().HasDatabaseName("ix_release_decisions_audit_record_id");
            builder.HasMany(d => d.Files).WithOne().HasForeignKey(f => f.ReleaseDecisionId).HasConstraintName("fk_vetted_files_release_decisions");
        }
    }

    private sealed class VettedFileConfiguration : IEntityTypeConfiguration<VettedFile>
    {
        public void Configure(EntityTypeBuilder<VettedFile> builder)
        {
            builder.ToTable("vetted_files");
            builder.Property(f => f.Id).HasColumnName("id");
            builder.Property(f => f.ReleaseDecisionId).HasColumnName("release_decision_id");
            builder.Property(f => f.Filename).HasColumnName("filename").HasMaxLength(255);
            builder.Property(f => f.Sha256).HasColumnName("sha256").HasMaxLength(64);
            builder.Property(f => f.Size).HasColumnName("size");
            builder.Property(f => f.MetadataSha256).HasColumnName("metadata_sha256").HasMaxLength(64);
            builder.HasIndex(f => new { f.ReleaseDecisionId, f.Filename }).IsUnique().HasDatabaseName("ix_vetted_files_decision_filename");
        }
    }

    private sealed class SeenReleaseConfiguration : IEntityTypeConfiguration<SeenRelease>
    {
        public void Configure(EntityTypeBuilder<SeenRelease> builder)
        {
            builder.ToTable("seen_releases");
            builder.Property(r => r.Id).HasColumnName("id");
            builder.Property(r => r.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(r => r.Version).HasColumnName("version").HasMaxLength(128);
            builder.Property(r => r.FirstSeenAt).HasColumnName("first_seen_at");
            builder.Property(r => r.UploadedAt).HasColumnName("uploaded_at");
            builder.Property(r => r.Roster).HasColumnName("roster").HasMaxLength(4000);
            builder.HasIndex(r => new { r.Project, r.Version }).IsUnique().HasDatabaseName("ix_seen_releases_project_version");
        }
    }

    private sealed class ReleaseSignalConfiguration : IEntityTypeConfiguration<ReleaseSignal>
    {
        public void Configure(EntityTypeBuilder<ReleaseSignal> builder)
        {
            builder.ToTable("release_signals");
            builder.Property(s => s.Id).HasColumnName("id");
            builder.Property(s => s.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(s => s.Version).HasColumnName("version").HasMaxLength(128);
            builder.Property(s => s.Kind).HasColumnName("kind").HasMaxLength(64);
            builder.Property(s => s.Evidence).HasColumnName("evidence").HasMaxLength(2000);
            builder.Property(s => s.DetectedAt).HasColumnName("detected_at");
            builder.HasIndex(s => new { s.Project, s.Version, s.Kind }).IsUnique().HasDatabaseName("ix_release_signals_project_version_kind");
        }
    }

    private sealed class FileProvenanceConfiguration : IEntityTypeConfiguration<FileProvenance>
    {
        public void Configure(EntityTypeBuilder<FileProvenance> builder)
        {
            builder.ToTable("file_provenance");
            builder.Property(p => p.Id).HasColumnName("id");
            builder.Property(p => p.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(p => p.Version).HasColumnName("version").HasMaxLength(128);
            builder.Property(p => p.Filename).HasColumnName("filename").HasMaxLength(255);
            builder.Property(p => p.Sha256).HasColumnName("sha256").HasMaxLength(64);
            builder.Property(p => p.State).HasColumnName("state").HasMaxLength(16);
            builder.Property(p => p.Publishers).HasColumnName("publishers").HasMaxLength(4000);
            builder.Property(p => p.Evidence).HasColumnName("evidence");
            builder.Property(p => p.Failure).HasColumnName("failure").HasMaxLength(2000);
            builder.Property(p => p.Document).HasColumnName("document");
            builder.Property(p => p.TrustedRoot).HasColumnName("trusted_root").HasMaxLength(64);
            builder.Property(p => p.CheckedAt).HasColumnName("checked_at");
            builder.HasIndex(p => new { p.Project, p.Filename, p.Sha256 }).IsUnique().HasDatabaseName("ix_file_provenance_project_filename_sha256");
            builder.HasIndex(p => new { p.Project, p.Version }).HasDatabaseName("ix_file_provenance_project_version");
        }
    }

    private sealed class PublisherDecisionConfiguration : IEntityTypeConfiguration<PublisherDecision>
    {
        public void Configure(EntityTypeBuilder<PublisherDecision> builder)
        {
            builder.ToTable("publisher_decisions");
            builder.Property(d => d.Id).HasColumnName("id");
            builder.Property(d => d.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(d => d.Publisher).HasColumnName("publisher").HasMaxLength(500);
            builder.Property(d => d.From).HasColumnName("valid_from");
            builder.Property(d => d.Until).HasColumnName("valid_until");
            builder.Property(d => d.Action).HasColumnName("action").HasMaxLength(16);
            builder.Property(d => d.Actor).HasColumnName("actor").HasMaxLength(128);
            builder.Property(d => d.Reason).HasColumnName("reason").HasMaxLength(2000);
            builder.Property(d => d.DecidedAt).HasColumnName("decided_at");
            builder.Property(d => d.AuditRecordId).HasColumnName("audit_record_id");
            builder.Property(d => d.AuditHash).HasColumnName("audit_hash").HasMaxLength(64);
            builder.HasIndex(d => new { d.Project, d.Publisher }).HasDatabaseName("ix_publisher_decisions_project_publisher");
            builder.HasIndex(d => d.AuditRecordId).IsUnique().HasDatabaseName("ix_publisher_decisions_audit_record_id");
        }
    }

    private sealed class ReleaseRequestConfiguration : IEntityTypeConfiguration<ReleaseRequest>
    {
        public void Configure(EntityTypeBuilder<ReleaseRequest> builder)
        {
            builder.ToTable("release_requests");
            builder.Property(r => r.Id).HasColumnName("id");
            builder.Property(r => r.Project).HasColumnName("project").HasMaxLength(200);
            builder.Property(r => r.Version).HasColumnName("version").HasMaxLength(128);
            builder.Property(r => r.Environment).HasColumnName("environment").HasMaxLength(64);
            builder.Property(r => r.FirstRequestedAt).HasColumnName("first_requested_at");
            builder.Property(r => r.LastRequestedAt).HasColumnName("last_requested_at");
            builder.Property(r => r.RequestCount).HasColumnName("request_count");
            builder.HasIndex(r => new { r.Project, r.Version, r.Environment }).IsUnique().HasDatabaseName("ix_release_requests_project_version_environment");
        }
    }
}

public sealed class SqliteCuratedIndexDbContext(DbContextOptions<SqliteCuratedIndexDbContext> options) : CuratedIndexDbContext(options)
{
    // SQLite has no time zones: DateTime columns are UTC by convention and read back as UTC.
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();

    private sealed class UtcDateTimeConverter() : Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTime, DateTime>(
        value => value.ToUniversalTime(),
        value => DateTime.SpecifyKind(value, DateTimeKind.Utc));
}

public sealed class PostgresCuratedIndexDbContext(DbContextOptions<PostgresCuratedIndexDbContext> options) : CuratedIndexDbContext(options);
