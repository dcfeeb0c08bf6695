using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace CuratedIndex.Data;

/// <summary>
/// Mutual exclusion by name across every node of a deployment. On PostgreSQL: a session advisory lock
/// (<c>pg_try_advisory_lock</c>) on a connection of its own, held open for as long as the lock, so PostgreSQL itself
/// releases it when the holder lets go, and when the holder's session ends: at once when its process dies (the socket
/// closes with it), and after TCP keepalive when its machine vanishes (set <c>tcp_keepalives_*</c> on the server, as the
/// compose file does). On SQLite the deployment is one node: a lock held in this host.
/// </summary>
/// <remarks>
/// Lock connections are not pooled: a pooled connection would only be reset (and its locks released) when it is next
/// used, and held locks must never take connections from the pool the application's queries need. At most
/// <see cref="MaxHeld"/> are open per node; past that a caller gets no lock, as if it were held elsewhere.
/// </remarks>
public sealed class ClusterLocks : IDisposable
{
    /// <summary>Lock connections one node may hold at once (each is a PostgreSQL connection).</summary>
    public const int MaxHeld = 16;

    /// <summary>How often a waiter asks again; waits are for downloads and job runs, never on a page's path.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly DatabaseProvider _provider;
    private readonly string _connectionString;
    private readonly SemaphoreSlim _connections = new(MaxHeld, MaxHeld);
    private readonly HashSet<string> _heldHere = new(StringComparer.Ordinal);

    public ClusterLocks(DatabaseProvider provider, string connectionString)
    {
        _provider = provider;
        _connectionString = provider == DatabaseProvider.Postgres
            ? new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = "curated-index-lock" }.ConnectionString
            : connectionString;
    }

    /// <summary>True when other nodes may hold these locks (PostgreSQL); on SQLite the deployment is this one node.</summary>
    public bool AcrossNodes => _provider == DatabaseProvider.Postgres;

    /// <summary>
    /// Takes the lock <paramref name="name"/>, waiting up to <paramref name="wait"/> for its holder; null when it is still
    /// held then (or this node already holds <see cref="MaxHeld"/> locks). Dispose the result to release it.
    /// </summary>
    public async Task<IAsyncDisposable?> TryAcquireAsync(string name, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + wait;
        if (!AcrossNodes)
        {
            while (true)
            {
                lock (_heldHere)
                {
                    if (_heldHere.Add(name))
                    {
                        return new HeldHere(this, name);
                    }
                }

                if (DateTime.UtcNow >= deadline)
                {
                    return null;
                }

                await Task.Delay(PollInterval, cancellationToken);
            }
        }

        if (!await _connections.WaitAsync(wait, cancellationToken))
        {
            return null;
        }

        var connection = new NpgsqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", KeyOf(name));
            while (true)
            {
                if (await command.ExecuteScalarAsync(cancellationToken) is true)
                {
                    return new HeldInPostgres(this, connection, KeyOf(name));
                }

                if (DateTime.UtcNow >= deadline)
                {
                    break;
                }

                await Task.Delay(PollInterval, cancellationToken);
            }
        }
        catch
        {
            await ReleaseConnectionAsync(connection);
            throw;
        }

        await ReleaseConnectionAsync(connection);
        return null;
    }

    public void Dispose() => _connections.Dispose();

    /// <summary>The advisory lock's 64-bit key: the first eight bytes of the name's SHA-256 (a collision only serializes two names).</summary>
    internal static long KeyOf(string name) =>
        BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes("curated-index:" + name)));

    // Closing the (unpooled) connection ends the session, and any lock it held with it.
    private async Task ReleaseConnectionAsync(NpgsqlConnection connection)
    {
        try
        {
            await connection.DisposeAsync();
        }
        finally
        {
            _connections.Release();
        }
    }

    private sealed class HeldHere(ClusterLocks owner, string name) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            lock (owner._heldHere)
            {
                owner._heldHere.Remove(name);
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class HeldInPostgres(ClusterLocks owner, NpgsqlConnection connection, long key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
                command.Parameters.AddWithValue("key", key);
                await command.ExecuteScalarAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // The connection broke: the server ended the session, and the lock with it.
            }
            finally
            {
                await owner.ReleaseConnectionAsync(connection);
            }
        }
    }
}
