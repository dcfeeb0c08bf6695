using CuratedIndex.Hosting;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Storage;

public static class StorageRegistration
{
    /// <summary>The artifact store, chosen once by <c>Storage:Provider</c>; a relative <c>Storage:Path</c> is under the content root.</summary>
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
                _ => throw new InvalidOperationException($"Storage:Provider '{options.Provider}' is not available in this build."),
            };
        });
    }
}
