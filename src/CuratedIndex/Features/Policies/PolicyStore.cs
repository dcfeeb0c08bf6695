using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Policies;

/// <summary>Holds the current policy snapshot, loaded once at startup (a bad file stops startup).</summary>
public sealed class PolicyStore(IOptions<PolicyOptions> options, IHostEnvironment hostEnvironment)
{
    private PolicySnapshot? _current;

    public PolicySnapshot Current => _current ??= Load();

    /// <summary>The environment named in a URL, or null when there is none by that name.</summary>
    public EnvironmentPolicy? FindEnvironment(string name) =>
        Current.Environments.TryGetValue(name, out var environment) ? environment : null;

    public PolicySnapshot Load()
    {
        var path = options.Value.Path;
        if (!System.IO.Path.IsPathRooted(path))
        {
            path = System.IO.Path.Combine(hostEnvironment.ContentRootPath, path);
        }

        _current = PolicyLoader.LoadDirectory(path);
        return _current;
    }
}
