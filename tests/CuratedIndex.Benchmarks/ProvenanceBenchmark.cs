using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using CuratedIndex.Features.Provenance;

namespace CuratedIndex.Benchmarks;

/// <summary>
/// Verifying one file's real PEP 740 provenance (pypi_attestations-0.0.19, one Rekor v1 attestation: inclusion proof,
/// checkpoint, SET, chain at T, SCT, DSSE signature, body, subject, GitHub publisher), warm: the trusted root is parsed
/// once, as in the product. Target: well under 10 ms per file.
/// </summary>
[MemoryDiagnoser]
public class ProvenanceBenchmark
{
    private const string Dist = "pypi_attestations-0.0.19.tar.gz";
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 0, 0, 0, TimeSpan.Zero);
    private TrustedRoot _root = null!;
    private byte[] _provenance = [];
    private string _sha256 = "";

    [GlobalSetup]
    public void Setup()
    {
        _root = TrustedRoot.Parse(File.ReadAllBytes(Path.Combine(Paths.Repository, "config", "sigstore", "trusted_root.json")));
        _provenance = File.ReadAllBytes(Path.Combine(Paths.Provenance, Dist + ".provenance"));
        _sha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(Paths.Provenance, Dist))));
        if (!Verify().Verified)
        {
            throw new InvalidOperationException("the benchmark fixture does not verify");
        }
    }

    [Benchmark]
    public ProvenanceVerification Verify() => ProvenanceVerifier.Verify(_provenance, Dist, _sha256, _root, Now);
}
