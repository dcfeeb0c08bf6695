using System.Diagnostics;
using CuratedIndex.Storage;

namespace CuratedIndex.Hosting;

/// <summary>
/// The artifact store with a span per read (open) and per write (begin to commit or discard), whatever the provider.
/// Registered only when traces are exported: otherwise the store is called as it is, with nothing in between.
/// </summary>
internal sealed class TelemetryArtifactStore(IArtifactStore inner) : IArtifactStore
{
    public async Task<StoredObject?> OpenAsync(string key, CancellationToken cancellationToken)
    {
        using var activity = Telemetry.Source.StartActivity("curated_index.store.read");
        activity?.SetTag("curated_index.store.key", key);
        try
        {
            var stored = await inner.OpenAsync(key, cancellationToken);
            activity?.SetTag("curated_index.store.found", stored is not null);
            return stored;
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            throw;
        }
    }

    public async Task<IArtifactWrite> BeginWriteAsync(string key, CancellationToken cancellationToken)
    {
        var activity = Telemetry.Source.StartActivity("curated_index.store.write");
        activity?.SetTag("curated_index.store.key", key);
        try
        {
            return new Write(await inner.BeginWriteAsync(key, cancellationToken), activity);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            activity?.Dispose();
            throw;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

    // The write's span ends when the write does: committed, or discarded by disposing it uncommitted.
    private sealed class Write(IArtifactWrite inner, Activity? activity) : IArtifactWrite
    {
        public Stream Content => inner.Content;

        public async Task CommitAsync(CancellationToken cancellationToken)
        {
            await inner.CommitAsync(cancellationToken);
            activity?.SetTag("curated_index.store.committed", true);
        }

        public async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            activity?.Dispose();
        }
    }
}
