using System.CommandLine;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Releases.Cli;
using CuratedIndex.Features.Typosquat;

namespace CuratedIndex.Hosting;

/// <summary>The command line: <c>curated-index [serve]</c> runs the server; the other verbs do one job and exit.</summary>
internal static class CommandLine
{
    public static RootCommand Create()
    {
        // Tokens no verb claims (`--Section:Key=value`) are configuration, passed to the host untouched.
        var serve = new Command("serve", "Serve the index (the default).");
        var migrate = new Command("migrate", "Apply database migrations and exit.");
        var expectedHead = new Option<string>("--head") { Description = "A head hash printed by an earlier verify: also fail when that record is gone (records cut from the end)." };
        var fullVerify = new Option<bool>("--full") { Description = "Re-read the whole chain instead of continuing from the last checkpoint the server stored." };
        var verify = new Command("verify", "Check the audit log's hash chain; exit 1 naming the first broken record.") { expectedHead, fullVerify };
        var audit = new Command("audit", "The audit log.") { verify };
        var userName = new Argument<string>("user-name") { Description = "The account's user name." };
        var role = new Option<string>("--role") { Description = "viewer, reviewer or admin.", Required = true };
        var addUser = new Command("add", "Create an account; the password is read from standard input.") { userName, role };
        var setPassword = new Command("set-password", "Set an account's password, read from standard input.") { userName };
        var users = new Command("users", "Local accounts of the review UI and API.") { addUser, setPassword };
        var typosquatCheck = new Command("typosquat-check", "Read names or a requirements file on standard input; print each lookalike of a popular project; exit 1 if any.");
        var healthUrl = new Option<string>("--url") { Description = $"The URL to GET (default: {HealthCheckCommand.DefaultUrl})." };
        var healthCheck = new Command("healthcheck", "GET /healthz (or --url); exit 0 when it answers 200, 1 otherwise. The container image's HEALTHCHECK.") { healthUrl };
        var root = new RootCommand("CuratedIndex: a curated three-tier mirror proxy for PyPI.") { serve, migrate, audit, users, typosquatCheck, healthCheck };
        AddClientCommands(root);
        foreach (var command in new Command[] { root, serve, migrate, audit, verify, users, addUser, setPassword, typosquatCheck })
        {
            command.TreatUnmatchedTokensAsErrors = false;
        }

        // Actions are set before parsing: a parse result binds to the actions its commands have at that moment.
        string[] HostArgs(ParseResult result) => result.UnmatchedTokens.ToArray();
        root.SetAction((result, ct) => ServeAsync(HostArgs(result), ct));
        serve.SetAction((result, ct) => ServeAsync(HostArgs(result), ct));
        migrate.SetAction((result, ct) => RunAsync(HostArgs(result), Preparation.Migrate, (_, _) =>
        {
            Console.WriteLine("Database is up to date.");
            return Task.FromResult(0);
        }, ct));
        verify.SetAction((result, ct) => RunAsync(HostArgs(result), Preparation.None, async (app, token) =>
        {
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndex.Data.CuratedIndexDbContext>();
            // A verifier only reads: it continues from the server's checkpoint (or reads everything with --full) and stores none.
            var (count, broken, head) = await AuditLog.VerifyAsync(db, token, result.GetValue(expectedHead), result.GetValue(fullVerify));
            if (broken is null)
            {
                Console.WriteLine(head is null ? $"audit chain intact: {count} records" : $"audit chain intact: {count} records; head record {head.Id} hash {head.Hash}");
                return 0;
            }

            await Console.Error.WriteLineAsync($"audit chain broken at record {broken.RecordId}: {broken.Problem}");
            return 1;
        }, ct));
        addUser.SetAction((result, ct) => RunAsync(HostArgs(result), Preparation.Full, async (app, token) =>
        {
            var name = result.GetValue(userName)!;
            await app.Services.GetRequiredService<AccountService>().CreateUserAsync(name, ReadPassword(), result.GetValue(role)!, CliActor(), token);
            Console.WriteLine($"created user '{name}'");
            return 0;
        }, ct));
        setPassword.SetAction((result, ct) => RunAsync(HostArgs(result), Preparation.Full, async (app, token) =>
        {
            var name = result.GetValue(userName)!;
            await app.Services.GetRequiredService<AccountService>().SetPasswordAsync(name, ReadPassword(), CliActor(), token);
            Console.WriteLine($"password of '{name}' changed");
            return 0;
        }, ct));
        // No database and no host: the corpus comes straight from configuration.
        typosquatCheck.SetAction((result, _) => TyposquatCheck.RunAsync(HostArgs(result), Console.In, Console.Out, Console.Error));
        // No host either: a probe reads no configuration and opens no database. It takes no configuration tokens (which the
        // root lets through), so a typo stops it instead of probing the default URL.
        healthCheck.SetAction((result, ct) => result.UnmatchedTokens.Count > 0
            ? UsageAsync($"unrecognized argument '{result.UnmatchedTokens[0]}' (see --help)")
            : HealthCheckCommand.RunAsync(result.GetValue(healthUrl), Console.Out, Console.Error, ct));

        return root;
    }

    /// <summary>
    /// Parses and runs. A command line that does not parse exits 2 with one line per problem: a mistyped option of a
    /// command that changes things (<c>vet --dryrun</c>) must never run it for real.
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args)
    {
        var result = Create().Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var parseError in result.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {parseError.Message}");
            }

            return 2;
        }

        return await result.InvokeAsync();
    }

    // The verbs that talk to a server's API (check, vet, audits export|import): no host, no database here.
    private static void AddClientCommands(RootCommand root)
    {
        var server = new Option<string>("--server") { Description = $"The server's URL (default: ${ServerClient.UrlVariable})." };
        var token = new Option<string>("--token") { Description = $"An API token (default: ${ServerClient.TokenVariable}; prefer the variable: arguments show in process lists)." };
        var requirement = new Option<string[]>("--requirement", "-r") { Description = "A requirements file (pip-compile output, --hash lines) or a PEP 751 pylock.toml; repeatable.", Required = true, Arity = ArgumentArity.OneOrMore };
        // vet has two modes, a lock file (-r) or one release with its dependencies (--with-deps): the check is in its action.
        var vetFiles = new Option<string[]>("--requirement", "-r") { Description = "A requirements file (pip-compile output, --hash lines) or a PEP 751 pylock.toml; repeatable.", Arity = ArgumentArity.OneOrMore };
        var environment = new Option<string>("--env") { Description = "The environment, e.g. prod.", Required = true };
        var criteria = new Option<string>("--criteria") { Description = "safe-to-deploy (default) or safe-to-run." };
        var reason = new Option<string>("--reason") { Description = "The reason recorded with each decision (default: names the command, and the lock file for vet -r)." };
        var withDeps = new Option<bool>("--with-deps") { Description = "Decide the release's whole dependency closure in the environment in one step, each member with its own audit record." };
        var closureRoot = new Argument<string>("requirement") { Description = "name, name==VERSION or name[extra,...]==VERSION." };
        var vetRoot = new Argument<string>("requirement") { Description = "With --with-deps: name, name==VERSION or name[extra,...]==VERSION.", Arity = ArgumentArity.ZeroOrOne };
        var approveEnvironment = new Option<string>("--env") { Description = "With --with-deps: the environment whose Python versions and platforms give the dependencies, e.g. ci." };
        var breakGlass = new Option<string>("--break-glass") { Description = "An admin's reason to vet releases inside their cooldown." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be done; change nothing." };
        var since = new Option<string>("--since") { Description = "Only vettings made at or after this date (2026-11-01) or RFC 3339 date-time." };
        var projects = new Option<string>("--projects") { Description = "Only these projects, comma-separated." };
        var importFile = new Argument<string>("file") { Description = "The audits file (docs/audits-format.md)." };

        var check = new Command("check", "Would every requirement of a lock file install from an environment? Exit 0 yes, 1 no (one line per miss), 2 cannot tell.")
            { requirement, environment, server, token };
        var vet = new Command("vet", "Onboard a service from its lock file (-r): approve its projects and vet each pinned release with the lock file's hashes; or vet one release with its dependencies (--with-deps REQ). Exit 1 if a line was refused.")
            { vetFiles, vetRoot, withDeps, environment, criteria, reason, breakGlass, dryRun, server, token };
        var approve = new Command("approve", "Approve a project; with --with-deps, also every pending project of its dependency closure in --env. Exit 1 if a dependency must be decided on its own first.")
            { closureRoot, withDeps, approveEnvironment, reason, dryRun, server, token };
        var export = new Command("export", "Write the server's vettings as an audits file to standard output.") { since, server, token };
        var import = new Command("import", "Vet the releases of an audits file on the server, pinned to the file's sha256s. Exit 1 if an entry was refused.")
            { importFile, criteria, projects, dryRun, server, token };
        root.Add(check);
        root.Add(vet);
        root.Add(approve);
        root.Add(new Command("audits", "Vettings shared between organizations (docs/audits-format.md).") { export, import });

        check.SetAction((result, ct) => ClientAsync(result, server, token, client =>
            CheckCommand.RunAsync(client, result.GetValue(requirement)!, result.GetValue(environment)!, Console.Out, Console.Error, ct)));
        vet.SetAction((result, ct) =>
        {
            var release = result.GetValue(vetRoot);
            if ((MistypedOption(release) ?? VetCommand.ModeProblem(result.GetValue(vetFiles), result.GetValue(withDeps), release)) is { } usage)
            {
                return UsageAsync(usage);
            }

            return ClientAsync(result, server, token, client => result.GetValue(withDeps)
                ? ApproveCommand.VetAsync(
                    client,
                    release!,
                    new ClosureCommandOptions(result.GetValue(environment), result.GetValue(reason), result.GetValue(criteria), result.GetValue(breakGlass), result.GetValue(dryRun)),
                    Console.Out,
                    Console.Error,
                    ct)
                : VetCommand.RunAsync(
                    client,
                    result.GetValue(vetFiles)!,
                    new VetOptions(result.GetValue(environment)!, result.GetValue(criteria), result.GetValue(reason), result.GetValue(breakGlass), result.GetValue(dryRun)),
                    Console.Out,
                    Console.Error,
                    terminal: !Console.IsOutputRedirected,
                    ct));
        });
        approve.SetAction((result, ct) =>
        {
            var release = result.GetValue(closureRoot)!;
            if (MistypedOption(release) is { } usage)
            {
                return UsageAsync(usage);
            }

            return ClientAsync(result, server, token, client => ApproveCommand.ApproveAsync(
                client,
                release,
                result.GetValue(withDeps),
                new ClosureCommandOptions(result.GetValue(approveEnvironment), result.GetValue(reason), DryRun: result.GetValue(dryRun)),
                Console.Out,
                Console.Error,
                ct));
        });
        export.SetAction((result, ct) => ClientAsync(result, server, token, async client =>
        {
            await using var stdout = Console.OpenStandardOutput();
            return await AuditsCommands.ExportAsync(client, result.GetValue(since), stdout, ct);
        }));
        import.SetAction((result, ct) => ClientAsync(result, server, token, client =>
            AuditsCommands.ImportAsync(client, result.GetValue(importFile)!, result.GetValue(criteria), result.GetValue(projects), result.GetValue(dryRun), Console.Out, Console.Error, ct)));
    }

    // An option the verb does not know (`--dryrun`) lands in its requirement argument: say so, as for any unknown token.
    private static string? MistypedOption(string? argument) =>
        argument is not null && argument.StartsWith('-') ? $"unrecognized argument '{argument}' (see --help)" : null;

    private static async Task<int> UsageAsync(string problem)
    {
        await Console.Error.WriteLineAsync($"error: {problem}");
        return 2;
    }

    private static async Task<int> ClientAsync(ParseResult result, Option<string> server, Option<string> token, Func<ServerClient, Task<int>> run)
    {
        // The root lets configuration tokens through for the server's verbs; a client verb takes none, so a typo stops it.
        if (result.UnmatchedTokens.Count > 0)
        {
            await Console.Error.WriteLineAsync($"error: unrecognized argument '{result.UnmatchedTokens[0]}' (see --help)");
            return 2;
        }

        try
        {
            using var client = ServerClient.Create(result.GetValue(server), result.GetValue(token), Console.Error);
            return await run(client);
        }
        catch (ServerClientException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }
    }

    private static async Task<int> ServeAsync(string[] args, CancellationToken cancellationToken)
    {
        await using var app = CuratedIndexHost.Build(args);
        if (SocketThreads.ShouldRunInline(app))
        {
            // Before the first socket (upstream, Kestrel's listener): the runtime reads this once.
            SocketThreads.EnableInlineCompletions();
            HostingLog.InlineScheduling(app.Logger);
            // The typosquat detector is built on first use (about 0.15 s): on the thread pool now, not in the first index
            // read on a socket thread. It never throws (a corpus that fails is logged).
            _ = Task.Run(() => app.Services.GetRequiredService<Features.Typosquat.TyposquatScreening>().IsAvailable(app.Services.GetRequiredService<Features.Decisions.CurationStore>().Current), cancellationToken);
        }

        try
        {
            // The job schedules are read before anything starts: a schedule this build cannot use stops here, in one line.
            app.Services.GetRequiredService<Features.Jobs.JobCatalog>();
            await CuratedIndexHost.PrepareAsync(app, cancellationToken);
        }
        catch (PolicyFileException e)
        {
            await Console.Error.WriteLineAsync($"policy error: {e.Message}");
            return 2;
        }
        catch (StartupRefusedException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }
        catch (Features.Jobs.JobScheduleException e)
        {
            await Console.Error.WriteLineAsync($"configuration error: {e.Message}");
            return 2;
        }

        await app.RunAsync();
        return 0;
    }

    // One-shot verbs: build the host without serving, prepare the database, run, and say what went wrong in one line.
    private static async Task<int> RunAsync(string[] args, Preparation preparation, Func<WebApplication, CancellationToken, Task<int>> run, CancellationToken cancellationToken)
    {
        await using var app = CuratedIndexHost.Build(args);
        try
        {
            switch (preparation)
            {
                case Preparation.Migrate:
                    await CuratedIndex.Data.DataRegistration.MigrateAsync(app.Services, cancellationToken);
                    break;
                case Preparation.Full:
                    await CuratedIndexHost.PrepareAsync(app, cancellationToken);
                    break;
            }

            return await run(app, cancellationToken);
        }
        catch (Exception e) when (e is PolicyFileException or StartupRefusedException or AccountException or System.Data.Common.DbException)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }
    }

    private static string ReadPassword() => Console.In.ReadLine() ?? "";

    private static string CliActor() => $"cli:{Environment.UserName}";
}

/// <summary>What a one-shot verb needs first. A verifier only reads: it neither migrates nor records the policy files.</summary>
internal enum Preparation
{
    None,
    Migrate,
    Full,
}
