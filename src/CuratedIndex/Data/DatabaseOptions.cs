using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary><c>Database:Provider</c> chooses the engine; the connection string is <c>ConnectionStrings:CuratedIndex</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    [Required]
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Apply migrations at startup. On by default for SQLite; for a shared PostgreSQL prefer <c>curated-index migrate</c>.</summary>
    public bool? MigrateOnStartup { get; set; }
}
