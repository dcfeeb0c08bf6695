using CuratedIndex.Features.Provenance;
namespace CuratedIndex.Features.Releases;
    public enum ProvenanceState { Verified, Failed, None, Pending }
    public sealed record FileProvenanceFacts(string Filename, ProvenanceState State, IReadOnlyList<PublisherIdentity> Publishers, string? Failure);
    public sealed record ReleaseProvenance(string Version, IReadOnlyList<FileProvenanceFacts> Files);
    public static class ProvenanceSignals { public static IReadOnlyList<AnomalySignal> Detect(ReleaseProvenance r, ReleaseProvenance? pv, ReleaseProvenance? p) => []; public static bool IsProvenanceKind(string k) => false; }
