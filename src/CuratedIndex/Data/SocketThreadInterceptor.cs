using System.Data.Common;
using CuratedIndex.Hosting;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace CuratedIndex.Data;

/// <summary>
/// Moves every asynchronous database call off a socket thread before it starts, so the call and what follows it run on
/// the thread pool (<see cref="SocketThreads"/>; with SQLite, whose calls never come back on a socket thread): SQLite does
/// its I/O synchronously (a commit waits for fsync, a locked database for its busy timeout), and an index read that
/// reaches the database (a token not cached, a demand mark) must not hold up the other connections of its thread.
/// </summary>
public sealed class SocketThreadInterceptor : DbCommandInterceptor, IDbConnectionInterceptor, IDbTransactionInterceptor
{
    public static readonly SocketThreadInterceptor Instance = new();

    private SocketThreadInterceptor()
    {
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default) =>
        OffSocketThread(result);

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default) =>
        OffSocketThread(result);

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default) =>
        OffSocketThread(result);

    public ValueTask<InterceptionResult> ConnectionOpeningAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default) =>
        OffSocketThread(result);

    public ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default) =>
        OffSocketThread(result);

    public ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default) =>
        OffSocketThread(result);

    // EF Core goes on with the result unchanged, on the thread pool.
    private static async ValueTask<T> OffSocketThread<T>(T result)
    {
        await SocketThreads.LeaveAsync();
        return result;
    }
}
