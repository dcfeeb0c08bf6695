using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Policies;

/// <summary>Holds the current policy snapshot, loaded once at startup (a bad file stops startup).</summary>
public sealed class PolicyStore(IOptions<PolicyOptions> options, IHostEnvironment hostEnvironment)
{
    private PolicySnapshot? _current;

    public PolicySnapshot Current => _current ??= Load();

    /// <summary>SHA-256 over the loaded files' names and contents: changes exactly when a policy file does.</summary>
    public string Digest { get; private set; } = "";

    /// <summary>The loaded files, relative to the policy directory.</summary>
    public IReadOnlyList<string> Files { get; private set; } = [];

    /// <summary>The environment named in a URL, or null when there is none by that name.</summary>
    public EnvironmentPolicy? FindEnvironment(string name) =>
        Current.Environments.TryGetValue(name, out var environment) ? environment : null;

    public PolicySnapshot Load()
    {
        // Read once: the digest covers exactly the bytes that were parsed.
        var files = PolicyLoader.ReadDirectory(Directory);
        var snapshot = PolicyLoader.Parse(files);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file.Name + "\n"));
            hash.AppendData(file.Bytes);
        }

        Files = files.Select(f => f.Name).ToArray();
        Digest = Convert.ToHexStringLower(hash.GetHashAndReset());
        _current = snapshot;
        return snapshot;
    }

    private string Directory => System.IO.Path.IsPathRooted(options.Value.Path)
        ? options.Value.Path
        : System.IO.Path.Combine(hostEnvironment.ContentRootPath, options.Value.Path);
}
