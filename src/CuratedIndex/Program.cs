using System.CommandLine;
using CuratedIndex.Data;
using CuratedIndex.Features.Policies;
using CuratedIndex.Hosting;

// `curated-index [serve]` runs the server; `curated-index migrate` applies database migrations and exits.
// Every other argument is configuration (`--Section:Key=value`), passed to the host untouched.
var serve = new Command("serve", "Serve the index (the default).");
var migrate = new Command("migrate", "Apply database migrations and exit.");
var root = new RootCommand("CuratedIndex: a curated three-tier mirror proxy for PyPI.") { serve, migrate };
root.TreatUnmatchedTokensAsErrors = false;
serve.TreatUnmatchedTokensAsErrors = false;
migrate.TreatUnmatchedTokensAsErrors = false;

var hostArgs = args.Where(a => a is not ("serve" or "migrate")).ToArray();
root.SetAction((_, ct) => ServeAsync(hostArgs, ct));
serve.SetAction((_, ct) => ServeAsync(hostArgs, ct));
migrate.SetAction(async (_, ct) =>
{
    await using var app = CuratedIndexHost.Build(hostArgs);
    await DataRegistration.MigrateAsync(app.Services, ct);
    Console.WriteLine("Database is up to date.");
    return 0;
});

return await root.Parse(args).InvokeAsync();

static async Task<int> ServeAsync(string[] args, CancellationToken cancellationToken)
{
    await using var app = CuratedIndexHost.Build(args);
    try
    {
        await CuratedIndexHost.PrepareAsync(app, cancellationToken);
    }
    catch (PolicyFileException e)
    {
        await Console.Error.WriteLineAsync($"policy error: {e.Message}");
        return 2;
    }

    await app.RunAsync();
    return 0;
}

public partial class Program;
