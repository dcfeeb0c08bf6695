namespace CuratedIndex.Features.Accounts;

/// <summary>Viewers read everything; reviewers also decide; admins also manage accounts.</summary>
public static class Roles
{
    public const string Viewer = "viewer";
    public const string Reviewer = "reviewer";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Viewer, Reviewer, Admin];

    public static bool IsValid(string? role) => role is Viewer or Reviewer or Admin;
}

/// <summary>Authorization policy names: each admits its role and every stronger one.</summary>
public static class AccessPolicies
{
    public const string View = "view";
    public const string Review = "review";
    public const string Administer = "administer";

    public const string UiView = "ui-view";
    public const string UiReview = "ui-review";
    public const string UiAdminister = "ui-administer";
}
