using CuratedIndex.Data;
using CuratedIndex.Tests.Infrastructure;
using Npgsql;

namespace CuratedIndex.Tests.ScaleOut;

/// <summary>The cluster-wide lock on real PostgreSQL: two instances stand for two nodes.</summary>
public sealed class ClusterLocksTests
{
    private static ClusterLocks Node() =>
        new(DatabaseProvider.Postgres, new NpgsqlConnectionStringBuilder(ProxyInstance.PostgresAdminConnection()) { Pooling = false, ApplicationName = "cluster-locks-test" }.ConnectionString);

    [Fact]
    public async Task Lock_HeldByOneNode_IsRefusedToAnotherUntilReleased()
    {
        var name = $"test:{Guid.NewGuid():N}";
        var (one, other) = (Node(), Node());

        var held = await one.TryAcquireAsync(name, TimeSpan.Zero, CancellationToken.None);
        Assert.NotNull(held);
        Assert.Null(await other.TryAcquireAsync(name, TimeSpan.FromMilliseconds(300), CancellationToken.None));
        await using (var another = await other.TryAcquireAsync($"{name}:another", TimeSpan.Zero, CancellationToken.None))
        {
            Assert.NotNull(another);
        }

        var waiting = other.TryAcquireAsync(name, TimeSpan.FromSeconds(30), CancellationToken.None);
        await held!.DisposeAsync();
        await using var taken = await waiting;
        Assert.NotNull(taken);
    }

    [Fact]
    public async Task Lock_OfANodeWhoseSessionDied_IsFreeAtOnce()
    {
        var name = $"test:{Guid.NewGuid():N}";
        var (one, other) = (Node(), Node());
        var held = await one.TryAcquireAsync(name, TimeSpan.Zero, CancellationToken.None);
        Assert.NotNull(held);

        // What kill -9 of the holder amounts to for PostgreSQL: its session ends without unlocking.
        await using (var admin = new NpgsqlConnection(ProxyInstance.PostgresAdminConnection()))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND ((classid::bigint << 32) | objid::bigint) = @key AND granted",
                admin);
            terminate.Parameters.AddWithValue("key", ClusterLocks.KeyOf(name));
            Assert.Equal(true, await terminate.ExecuteScalarAsync());
        }

        await using var taken = await other.TryAcquireAsync(name, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.NotNull(taken);
        await held!.DisposeAsync(); // the broken connection's release is a no-op, not an error
    }

    [Fact]
    public async Task Lock_OnSqlite_IsHeldWithinTheNode()
    {
        var node = new ClusterLocks(DatabaseProvider.Sqlite, "Data Source=unused.db");
        var held = await node.TryAcquireAsync("job:scrub", TimeSpan.Zero, CancellationToken.None);
        Assert.NotNull(held);
        Assert.Null(await node.TryAcquireAsync("job:scrub", TimeSpan.FromMilliseconds(200), CancellationToken.None));
        await held!.DisposeAsync();
        await using var again = await node.TryAcquireAsync("job:scrub", TimeSpan.Zero, CancellationToken.None);
        Assert.NotNull(again);
    }
}
