using CuratedIndex.Features.Policies;
using CuratedIndex.Hosting;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>The checks every <c>/{env}/…/{project}/…</c> endpoint makes first, with their one-line refusals.</summary>
public static class IndexRequest
{
    /// <summary>
    /// Finds the environment and validates and normalizes the project name. Returns the refusal to send,
    /// or null when <paramref name="environment"/> and <paramref name="normalized"/> are set.
    /// </summary>
    public static IResult? Resolve(PolicyStore policies, string env, string project, out EnvironmentPolicy environment, out string normalized)
    {
        environment = null!;
        normalized = "";
        if (policies.FindEnvironment(env) is not { } found)
        {
            return UnknownEnvironment(env);
        }

        if (project.Length > ProjectName.MaxLength)
        {
            return PlainResults.Text(StatusCodes.Status400BadRequest, $"invalid project name: longer than {ProjectName.MaxLength} characters");
        }

        if (!ProjectName.IsValid(project))
        {
            return PlainResults.Text(StatusCodes.Status400BadRequest, "invalid project name: use letters, digits, '.', '-' and '_', starting and ending with a letter or digit");
        }

        environment = found;
        normalized = ProjectName.Normalize(project);
        return null;
    }

    public static IResult UnknownEnvironment(string env) =>
        PlainResults.NotFound(Policies.EnvironmentName.IsValid(env) ? $"unknown environment '{env}'" : "unknown environment");
}
