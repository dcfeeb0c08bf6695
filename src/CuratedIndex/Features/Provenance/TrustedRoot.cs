using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace CuratedIndex.Features.Provenance;

/// <summary>The trusted root could not be read; the message names the field.</summary>
public sealed class TrustedRootException(string message) : Exception(message);

/// <summary>A key or authority's validity window from the trusted root. The end is inclusive (conformance
/// <c>trust-root-*-validity-end-inclusive</c>); a window without a start covers nothing (conformance
/// <c>trust-root-tlog-missing-validity-start_fail</c>).</summary>
internal readonly record struct ValidityPeriod(DateTimeOffset? Start, DateTimeOffset? End)
{
    public bool Covers(DateTimeOffset time) => Start is { } start && start <= time && (End is not { } end || time <= end);

    public override string ToString() =>
        $"{Start?.ToString("O", CultureInfo.InvariantCulture) ?? "(no start)"}..{End?.ToString("O", CultureInfo.InvariantCulture) ?? "(open)"}";
}

/// <summary>A transparency log (Rekor) or a certificate transparency log (CT) the trusted root names.</summary>
internal sealed record TrustedLog(string BaseUrl, string Origin, byte[] LogId, TrustedPublicKey Key, ValidityPeriod Validity)
{
    public string LogIdHex => Convert.ToHexStringLower(LogId);
}

/// <summary>A Fulcio CA or a timestamp authority: its chain leaf-most first, last one the root.</summary>
internal sealed record TrustedCertificateChain(string Uri, IReadOnlyList<X509Certificate2> Certificates, ValidityPeriod Validity)
{
    private Lazy<string?>? _signatureFailure;

    /// <summary>Why the chain's own certificates do not sign each other (null when they do); it does not depend on
    /// time, so it is computed once per root rather than on every verification.</summary>
    public string? SignatureFailure =>
        LazyInitializer.EnsureInitialized(ref _signatureFailure, () => new Lazy<string?>(() => CertificatePath.SignatureFailure(Certificates))).Value;
}

/// <summary>
/// A Sigstore trusted root (<c>trusted_root.json</c>, media type <c>application/vnd.dev.sigstore.trustedroot+json</c>):
/// the Rekor logs, Fulcio CAs, CT logs and timestamp authorities whose keys the verifier trusts, each with the period it
/// was valid for. Immutable once parsed and safe to share between threads: keys are imported per verification.
/// </summary>
public sealed class TrustedRoot
{
    // A real root is ~10 KB; anything far beyond is not one.
    private const int MaxBytes = 1 << 20;

    private TrustedRoot(IReadOnlyList<TrustedLog> logs, IReadOnlyList<TrustedCertificateChain> certificateAuthorities,
        IReadOnlyList<TrustedLog> certificateTransparencyLogs, IReadOnlyList<TrustedCertificateChain> timestampAuthorities)
    {
        Logs = logs;
        CertificateAuthorities = certificateAuthorities;
        CertificateTransparencyLogs = certificateTransparencyLogs;
        TimestampAuthorities = timestampAuthorities;
    }

    internal IReadOnlyList<TrustedLog> Logs { get; }
    internal IReadOnlyList<TrustedCertificateChain> CertificateAuthorities { get; }
    internal IReadOnlyList<TrustedLog> CertificateTransparencyLogs { get; }
    internal IReadOnlyList<TrustedCertificateChain> TimestampAuthorities { get; }

    /// <summary>The transparency logs trusted, by origin host (e.g. <c>rekor.sigstore.dev</c>), for the README and UI.</summary>
    public IReadOnlyList<string> LogOrigins => Logs.Select(l => l.Origin).ToList();

    /// <summary>The latest validity start of any key or authority: a rough "how fresh is this root" figure.</summary>
    public DateTimeOffset? LatestKeyValidityStart =>
        Logs.Concat(CertificateTransparencyLogs).Select(l => l.Validity.Start)
            .Concat(CertificateAuthorities.Concat(TimestampAuthorities).Select(c => c.Validity.Start))
            .Max();

    internal TrustedLog? FindLog(ReadOnlySpan<byte> logId)
    {
        foreach (var log in Logs)
        {
            if (logId.SequenceEqual(log.LogId))
            {
                return log;
            }
        }
        return null;
    }

    /// <summary>Parses a trusted_root.json; throws <see cref="TrustedRootException"/> naming the bad field.</summary>
    public static TrustedRoot Parse(ReadOnlySpan<byte> json)
    {
        if (json.Length > MaxBytes)
        {
            throw new TrustedRootException("trusted root is larger than 1 MB");
        }
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), SigstoreJson.DocumentOptions);
            var root = document.RootElement;
            var mediaType = SigstoreJson.String(root, "mediaType", "trusted root");
            if (!mediaType.StartsWith("application/vnd.dev.sigstore.trustedroot", StringComparison.Ordinal))
            {
                throw new TrustedRootException($"trusted root: unknown mediaType '{mediaType}'");
            }
            var logs = ReadLogs(root, "tlogs");
            if (logs.Count == 0)
            {
                throw new TrustedRootException("trusted root: 'tlogs' is empty");
            }
            var authorities = ReadChains(root, "certificateAuthorities");
            if (authorities.Count == 0)
            {
                throw new TrustedRootException("trusted root: 'certificateAuthorities' is empty");
            }
            return new TrustedRoot(logs, authorities, ReadLogs(root, "ctlogs"), ReadChains(root, "timestampAuthorities"));
        }
        catch (JsonException e)
        {
            throw new TrustedRootException($"trusted root is not valid JSON: {e.Message}");
        }
        catch (ProvenanceCheckException e)
        {
            throw new TrustedRootException(e.Message);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new TrustedRootException($"trusted root holds a certificate that does not parse: {e.Message}");
        }
    }

    private static List<TrustedLog> ReadLogs(JsonElement root, string section)
    {
        var logs = new List<TrustedLog>();
        if (SigstoreJson.OptionalArray(root, section, "trusted root") is not { } array)
        {
            return logs;
        }
        var index = 0;
        foreach (var entry in array.EnumerateArray())
        {
            var what = $"trusted root {section}[{index++}]";
            var baseUrl = SigstoreJson.String(entry, "baseUrl", what);
            if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri))
            {
                throw new TrustedRootException($"{what}: baseUrl '{baseUrl}' is not an absolute URL");
            }
            var publicKey = SigstoreJson.Object(entry, "publicKey", what);
            var key = new TrustedPublicKey(
                SigstoreJson.String(publicKey, "keyDetails", what + ".publicKey"),
                SigstoreJson.Base64(publicKey, "rawBytes", what + ".publicKey"));
            var logId = SigstoreJson.Base64(SigstoreJson.Object(entry, "logId", what), "keyId", what + ".logId");
            if (logId.Length != 32)
            {
                throw new TrustedRootException($"{what}: logId.keyId is not 32 bytes");
            }
            // The checkpoint origin is the host (with a port only when not the default), e.g. localhost:8000.
            logs.Add(new TrustedLog(baseUrl, uri.Authority, logId, key, ReadValidity(publicKey, what + ".publicKey")));
        }
        return logs;
    }

    private static List<TrustedCertificateChain> ReadChains(JsonElement root, string section)
    {
        var chains = new List<TrustedCertificateChain>();
        if (SigstoreJson.OptionalArray(root, section, "trusted root") is not { } array)
        {
            return chains;
        }
        var index = 0;
        foreach (var entry in array.EnumerateArray())
        {
            var what = $"trusted root {section}[{index++}]";
            var certificates = new List<X509Certificate2>();
            foreach (var certificate in SigstoreJson.Array(SigstoreJson.Object(entry, "certChain", what), "certificates", what).EnumerateArray())
            {
                certificates.Add(X509CertificateLoader.LoadCertificate(SigstoreJson.Base64(certificate, "rawBytes", what + ".certChain")));
            }
            if (certificates.Count == 0)
            {
                throw new TrustedRootException($"{what}: certChain is empty");
            }
            chains.Add(new TrustedCertificateChain(SigstoreJson.OptionalString(entry, "uri", what) ?? "", certificates, ReadValidity(entry, what)));
        }
        return chains;
    }

    private static ValidityPeriod ReadValidity(JsonElement owner, string what)
    {
        if (SigstoreJson.OptionalObject(owner, "validFor", what) is not { } validFor)
        {
            return new ValidityPeriod(null, null);
        }
        return new ValidityPeriod(ReadTime(validFor, "start", what), ReadTime(validFor, "end", what));
    }

    private static DateTimeOffset? ReadTime(JsonElement validFor, string name, string what)
    {
        if (SigstoreJson.OptionalString(validFor, name, what + ".validFor") is not { } text)
        {
            return null;
        }
        // RFC 3339, sometimes with fractional seconds (2022-12-31T23:59:59.999Z).
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new TrustedRootException($"{what}.validFor.{name} '{text}' is not an RFC 3339 time");
    }
}
