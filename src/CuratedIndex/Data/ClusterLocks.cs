using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace CuratedIndex.Data;

/// <summary>
/// Mutual exclusion by name across every node of a deployment. On PostgreSQL: a session advisory lock
/// (<c>pg_try_advisory_lock</c>) on a connection held open for as long as the lock, so PostgreSQL itself releases it
/// when the holder lets go, and when the holder's process dies (its socket closes with it: no lease to expire, no row to
/// clean up after <c>kill -9</c>). On SQLite the deployment is one node: a lock held in this host.
/// </summary>
public sealed class ClusterLocks(DatabaseProvider provider, string connectionString)
{
    /// <summary>How often a waiter asks again; waits are for downloads and job runs, never on a page's path.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly HashSet<string> _heldHere = new(StringComparer.Ordinal);

    /// <summary>
    /// Takes the lock <paramref name="name"/>, waiting up to <paramref name="wait"/> for its holder; null when it is still
    /// held then. Dispose the result to release it.
    /// </summary>
    public async Task<IAsyncDisposable?> TryAcquireAsync(string name, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            if (await TryTakeAsync(name, cancellationToken) is { } held)
            {
                return held;
            }

            if (DateTime.UtcNow >= deadline)
            {
                return null;
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    private async Task<IAsyncDisposable?> TryTakeAsync(string name, CancellationToken cancellationToken)
    {
        if (provider != DatabaseProvider.Postgres)
        {
            lock (_heldHere)
            {
                return _heldHere.Add(name) ? new HeldHere(this, name) : null;
            }
        }

        var key = KeyOf(name);
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", key);
            if (await command.ExecuteScalarAsync(cancellationToken) is true)
            {
                return new HeldInPostgres(connection, key);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    /// <summary>The advisory lock's 64-bit key: the first eight bytes of the name's SHA-256 (a collision only serializes two names).</summary>
    internal static long KeyOf(string name) =>
        BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes("curated-index:" + name)));

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

    private sealed class HeldInPostgres(NpgsqlConnection connection, long key) : IAsyncDisposable
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
                // Returned to the pool, the session is reset (DISCARD ALL), which releases any advisory lock left.
                await connection.DisposeAsync();
            }
        }
    }
}
