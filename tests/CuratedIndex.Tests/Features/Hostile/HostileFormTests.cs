using System.Net;
using CuratedIndex.Tests.Infrastructure;

namespace CuratedIndex.Tests.Features.Hostile;

/// <summary>
/// Hostile form posts to the review UI (issue 9 §6): each is refused with 400 and a reason the reviewer can read (the
/// page's error line, or a plain-text line for a post without a valid antiforgery token), and nothing is decided.
/// </summary>
public sealed class HostileFormTests(HostileFixture fixture) : IClassFixture<HostileFixture>
{
    /// <summary>A form post: the page and form to fill (null: post raw fields without the page's antiforgery token) and where the reason shows.</summary>
    public sealed record FormPost(string Path, string? FormSelector, (string Name, string Value)[] Fields, string? ProblemSelector, string Reason);

    private static readonly IReadOnlyDictionary<string, FormPost> Posts = new Dictionary<string, FormPost>
    {
        ["form/decide-without-antiforgery"] = new("/ui/projects/six", null, [("Verdict", "approve"), ("Reason", "fine")], null, "antiforgery"),
        ["form/decide-forged-antiforgery"] = new("/ui/projects/six", null, [("Verdict", "approve"), ("Reason", "fine"), ("__RequestVerificationToken", "CfDJ8forged")], null, "antiforgery"),
        ["form/decide-empty-reason"] = new("/ui/projects/six", "#decision-form", [("Verdict", "approve"), ("Reason", "")], "#decision-problem", "reason is required"),
        ["form/decide-blank-reason"] = new("/ui/projects/six", "#decision-form", [("Verdict", "deny"), ("Reason", "   ")], "#decision-problem", "reason is required"),
        ["form/decide-unknown-verdict"] = new("/ui/projects/six", "#decision-form", [("Verdict", "bless"), ("Reason", "fine")], "#decision-problem", "approve, deny or defer"),
        ["form/decide-huge-reason"] = new("/ui/projects/six", "#decision-form", [("Verdict", "approve"), ("Reason", new string('r', 5000))], "#decision-problem", "longer than"),
        ["form/decide-control-reason"] = new("/ui/projects/six", "#decision-form", [("Verdict", "approve"), ("Reason", "ok\u001b[31m")], "#decision-problem", "control characters"),
        ["form/decide-invalid-name"] = new("/ui/projects/-evil-", null, [("Verdict", "approve"), ("Reason", "fine")], null, ""),
        ["form/bulk-without-antiforgery"] = new("/ui/queue", null, [("Projects", "six"), ("Verdict", "approve"), ("Reason", "fine")], null, "antiforgery"),
        ["form/users-without-antiforgery"] = new("/ui/users?handler=Create", null, [("UserName", "mallory"), ("Password", "a long enough passphrase"), ("Role", "admin")], null, "antiforgery"),
        ["form/users-unknown-role"] = new("/ui/users", "#create-user-form", [("UserName", "mallory"), ("Password", "a long enough passphrase"), ("Role", "god")], "#users-problem", "role"),
        ["form/users-short-password"] = new("/ui/users", "#create-user-form", [("UserName", "mallory"), ("Password", "x"), ("Role", "viewer")], "#users-problem", "password"),
        ["form/users-hostile-name"] = new("/ui/users", "#create-user-form", [("UserName", "<script>alert(1)</script>"), ("Password", "a long enough passphrase"), ("Role", "viewer")], "#users-problem", ""),
        ["form/tokens-without-antiforgery"] = new("/ui/tokens?handler=Create", null, [("TokenName", "ci")], null, "antiforgery"),
        ["form/tokens-empty-name"] = new("/ui/tokens", "#create-token-form", [("TokenName", "")], "#token-problem", ""),
        ["form/logout-without-antiforgery"] = new("/ui/logout", null, [], null, "antiforgery"),
    };

    public static TheoryData<string> PostIds() => [.. Posts.Keys];

    [Theory]
    [MemberData(nameof(PostIds))]
    public async Task HostileFormPost_IsRefusedWithAReason_AndDecidesNothing(string id)
    {
        var post = Posts[id];
        using var session = await UiSession.SignedInAsync(fixture.Proxy, $"admin-{Guid.NewGuid():N}"[..20], "admin");
        var auditBefore = (await fixture.Proxy.GetJsonAsync("/api/v1/audit/verify"))["records"]?.ToString();

        using var response = post.FormSelector is null
            ? await session.PostAsync(post.Path, post.Fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)))
            : await session.SubmitAsync(post.Path, post.FormSelector, post.Fields);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{id}: expected 400, got {(int)response.StatusCode}: {body[..Math.Min(body.Length, 300)]}");
        var reason = post.ProblemSelector is null
            ? body.TrimEnd('\n')
            : (await UiSession.ParseAsync(body)).QuerySelector(post.ProblemSelector)?.TextContent ?? "";
        Assert.False(string.IsNullOrWhiteSpace(reason), $"{id}: the 400 carries no reason");
        Assert.DoesNotContain('\n', reason);
        Assert.Contains(post.Reason, reason, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script>alert", body, StringComparison.Ordinal);
        Assert.Equal(auditBefore, (await fixture.Proxy.GetJsonAsync("/api/v1/audit/verify"))["records"]?.ToString());
    }
}
