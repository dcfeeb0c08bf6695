namespace CuratedIndex.Features.Provenance
{
    public sealed class TrustedRoot { public static TrustedRoot Parse(ReadOnlySpan<byte> json) => throw new TrustedRootException("stub"); }
    public sealed class TrustedRootException(string m) : Exception(m);
    public static class ProvenanceVerifier { public static ProvenanceVerification Verify(ReadOnlySpan<byte> doc, string filename, string sha, TrustedRoot root, DateTimeOffset now) => ProvenanceVerification.Failed("stub"); }
}
namespace CuratedIndex.Features.Releases
{
    using CuratedIndex.Features.Provenance;
    public enum ProvenanceState { Verified, Failed, None, Pending }
    public sealed record FileProvenanceFacts(string Filename, ProvenanceState State, IReadOnlyList<PublisherIdentity> Publishers, string? Failure);
    public sealed record ReleaseProvenance(string Version, IReadOnlyList<FileProvenanceFacts> Files);
    public static class ProvenanceSignals { public static IReadOnlyList<AnomalySignal> Detect(ReleaseProvenance r, ReleaseProvenance? pv, ReleaseProvenance? p) => []; public static bool IsProvenanceKind(string k) => false; }
}
