using System.CommandLine;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Policies;
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
        var root = new RootCommand("CuratedIndex: a curated three-tier mirror proxy for PyPI.") { serve, migrate, audit, users, typosquatCheck };
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

        return root;
    }

    private static async Task<int> ServeAsync(string[] args, CancellationToken cancellationToken)
    {
        await using var app = CuratedIndexHost.Build(args);
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
