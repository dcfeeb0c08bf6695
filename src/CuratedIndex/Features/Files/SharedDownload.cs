using Microsoft.Win32.SafeHandles;

namespace CuratedIndex.Features.Files;

/// <summary>
/// One cache-miss download in progress, shared by every client that asks for the file meanwhile. Upstream's bytes
/// go into a temporary file at upstream speed; each client reads that file at its own pace, so a client that stalls
/// delays only itself. Until the digest is verified the last byte is held back, so no client ever receives a
/// complete file that did not verify; a failed verification fails every reader. The temporary file is deleted when
/// the download has finished and its last reader has left.
/// </summary>
internal sealed class SharedDownload(ArtifactRequest request, string temporaryPath, SafeFileHandle writeHandle)
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _written;
    private bool _verified;
    private string? _failure;
    private int _readers;
    private bool _finished;
    private bool _deleted;

    public ArtifactRequest Request { get; } = request;

    /// <summary>The temporary file, open for writing; only the download writes it.</summary>
    public SafeFileHandle WriteHandle { get; } = writeHandle;

    /// <summary>Upstream's Content-Length, known before the first byte arrives.</summary>
    public long? UpstreamLength { get; set; }

    /// <summary>How the download ended, for callers that wait for the stored file rather than read along (HEAD, Range).</summary>
    public TaskCompletionSource<FetchOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Registers a reader; false when the download is over and its file gone (the caller starts anew).</summary>
    public bool TryJoin()
    {
        lock (_gate)
        {
            if (_deleted)
            {
                return false;
            }

            _readers++;
            return true;
        }
    }

    public void Leave()
    {
        lock (_gate)
        {
            _readers--;
            if (!_finished || _readers > 0 || _deleted)
            {
                return;
            }

            _deleted = true;
        }

        File.Delete(temporaryPath);
    }

    /// <summary>Opens the temporary file for one reader (shared with the writer).</summary>
    public SafeFileHandle OpenRead() =>
        File.OpenHandle(temporaryPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);

    /// <summary>The download wrote up to <paramref name="written"/> bytes (flushed to the file).</summary>
    public void Advanced(long written)
    {
        lock (_gate)
        {
            _written = written;
            Signal();
        }
    }

    /// <summary>The whole body is in and matched the index: readers may read all of it.</summary>
    public void Verified()
    {
        lock (_gate)
        {
            _verified = true;
            Signal();
        }
    }

    /// <summary>The download is over. A failure before verification fails every reader still reading.</summary>
    public void Finish(FetchOutcome outcome)
    {
        // Settled first, so that a request that just misses this download can tell the file was stored.
        Completion.TrySetResult(outcome);
        bool delete;
        lock (_gate)
        {
            if (outcome.Status == FetchStatus.Failed && !_verified)
            {
                _failure = outcome.Reason ?? "download failed";
            }

            _finished = true;
            delete = _readers == 0 && !_deleted;
            _deleted |= delete;
            Signal();
        }

        WriteHandle.Dispose();
        if (delete)
        {
            File.Delete(temporaryPath);
        }
    }

    /// <summary>
    /// Waits until bytes beyond <paramref name="position"/> may be read, and returns how far (<c>Limit</c>), or that the
    /// file is complete at <paramref name="position"/>, or the failure that ended the download.
    /// </summary>
    public async ValueTask<(long Limit, bool Complete, string? Failure)> WaitAsync(long position, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_verified)
                {
                    return (_written, position >= _written, null);
                }

                if (_failure is not null)
                {
                    return (position, false, _failure);
                }

                // Held back until verified: the last byte, and anything beyond the size the index promised.
                var limit = Math.Min(_written, Request.ExpectedSize ?? long.MaxValue) - 1;
                if (limit > position)
                {
                    return (limit, false, null);
                }

                if (_finished)
                {
                    // Finished without verification or failure cannot happen; treat it as a failure rather than wait forever.
                    return (position, false, "download ended unverified");
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    // Under _gate: wakes every waiting reader.
    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.SetResult();
    }
}
