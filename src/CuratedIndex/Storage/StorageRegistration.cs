using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Hosting;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Storage;

public static class StorageRegistration
{
    /// <summary>
    /// The artifact store, chosen once by <c>Storage:Provider</c>; a relative <c>Storage:Path</c> is under the content root.
    /// Creating the S3 store contacts nothing: a node starts while the store is down and uses it once it answers.
    /// </summary>
    public static void AddArtifactStore(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<StorageOptions>(StorageOptions.Section);
        var contentRoot = builder.Environment.ContentRootPath;
        builder.Services.AddSingleton<IArtifactStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return options.Provider switch
            {
                StorageProvider.FileSystem => new FileSystemArtifactStore(Path.IsPathRooted(options.Path) ? options.Path : Path.Combine(contentRoot, options.Path)),
                StorageProvider.S3 => new S3ArtifactStore(
                    options.S3,
                    Path.Combine(sp.GetRequiredService<IOptions<CacheOptions>>().Value.DirectoryUnder(contentRoot), "uploads")),
                _ => throw new InvalidOperationException($"Storage:Provider '{options.Provider}' is not available in this build."),
            };
        });
    }
}
