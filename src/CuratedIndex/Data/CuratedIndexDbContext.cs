using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CuratedIndex.Data;

/// <summary>One model for both providers; <see cref="SqliteCuratedIndexDbContext"/> and <see cref="PostgresCuratedIndexDbContext"/> own the migrations.</summary>
public abstract class CuratedIndexDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<CachedPage> CachedPages => Set<CachedPage>();
    public DbSet<StoredArtifact> StoredArtifacts => Set<StoredArtifact>();
    public DbSet<Incident> Incidents => Set<Incident>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfiguration(new CachedPageConfiguration());
        modelBuilder.ApplyConfiguration(new StoredArtifactConfiguration());
        modelBuilder.ApplyConfiguration(new IncidentConfiguration());
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
            builder.HasIndex(a => a.Filename).IsUnique().HasDatabaseName("ix_stored_artifacts_filename");
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
        }
    }
}

public sealed class SqliteCuratedIndexDbContext(DbContextOptions<SqliteCuratedIndexDbContext> options) : CuratedIndexDbContext(options);

public sealed class PostgresCuratedIndexDbContext(DbContextOptions<PostgresCuratedIndexDbContext> options) : CuratedIndexDbContext(options);
