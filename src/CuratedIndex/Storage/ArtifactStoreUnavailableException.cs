namespace CuratedIndex.Storage;

/// <summary>
/// The artifact store could not be asked (unreachable, refusing our credentials, its bucket missing): not the same as an
/// artifact that is not there, which <see cref="IArtifactStore.OpenAsync"/> answers with null. The message says which
/// store and why, in one line, for logs and for the 503 a request that needs the store answers.
/// </summary>
public sealed class ArtifactStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
