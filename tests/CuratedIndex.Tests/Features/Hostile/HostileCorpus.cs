namespace CuratedIndex.Tests.Features.Hostile;

/// <summary>
/// One hostile request and what the answer must be: one of <paramref name="Statuses"/>, with a one-line reason containing
/// <paramref name="Reason"/>. A null reason marks a request Kestrel itself refuses before the application runs (it answers
/// 400 with no body, and offers no hook to add one).
/// </summary>
public sealed record HostileRequest(string Method, string Target, (string Name, string Value)[] Headers, string? Body, int[] Statuses, string? Reason);

/// <summary>
/// The hostile-input corpus (issue 9 §6): names, paths, headers, query strings, API bodies, upstream pages and
/// policy files. Each entry is keyed by a readable id, so every entry is its own test case.
/// </summary>
public static class HostileCorpus
{
    private static readonly int[] BadRequest = [400];
    private static readonly int[] Refused = [400, 404];
    private static readonly int[] Unauthorized = [401];

    /// <summary>Project names no endpoint may accept: each appears at the simple page, JSON API and file endpoints.</summary>
    public static readonly IReadOnlyDictionary<string, string> Names = new Dictionary<string, string>
    {
        ["leading-hyphen"] = "-six",
        ["trailing-hyphen"] = "six-",
        ["leading-underscore"] = "_six",
        ["trailing-underscore"] = "six_",
        ["leading-dot"] = ".six",
        ["trailing-dot"] = "six.",
        ["space"] = "si%20x",
        ["plus"] = "si+x",
        ["quote"] = "si%22x",
        ["apostrophe"] = "si'x",
        ["semicolon"] = "si;x",
        ["crlf"] = "si%0D%0Ax",
        ["tab"] = "si%09x",
        ["script"] = "%3Cscript%3E",
        ["cjk"] = "%E5%90%8D%E5%89%8D",
        ["zero-width-space"] = "si%E2%80%8Bx",
        ["cyrillic-homoglyph"] = "%D1%81ix",
        ["fullwidth"] = "%EF%BD%93ix",
        ["asterisk"] = "si*x",
        ["parentheses"] = "si(x)",
        ["percent-escape"] = "si%25x",
        ["at-sign"] = "si@x",
        ["colon"] = "si:x",
        ["bang"] = "si!x",
        ["tilde"] = "si~x",
        ["dollar"] = "si$x",
        ["equals"] = "si=x",
        ["comma"] = "si,x",
        ["overlong-utf8-dot"] = "%C0%AE%C0%AEsix",
        ["too-long"] = new string('a', 300),
        ["only-punctuation"] = "-._",
        ["backtick"] = "si`x",
    };

    public static IEnumerable<(string Id, HostileRequest Request)> Requests()
    {
        foreach (var (id, name) in Names)
        {
            yield return ($"name/simple/{id}", Get($"/dev/simple/{name}/", Refused));
            yield return ($"name/json/{id}", Get($"/dev/pypi/{name}/json", Refused));
            yield return ($"name/files/{id}", Get($"/dev/files/{name}/six-1.16.0-py2.py3-none-any.whl", Refused));
        }

        // Paths: traversal, encodings, control characters, unknown places.
        yield return ("path/encoded-dotdot", Get("/dev/simple/%2E%2E/", BadRequest, "encoded '.'"));
        yield return ("path/dotdot", Get("/dev/simple/../../etc/passwd", BadRequest, "'..' segment"));
        yield return ("path/dot-segment", Get("/dev/simple/./six/", BadRequest, "'.' or '..'"));
        yield return ("path/encoded-slash-file", Get("/dev/files/six/..%2F..%2Fetc%2Fpasswd", BadRequest, "encoded"));
        yield return ("path/encoded-dot-file", Get("/dev/files/six/%2e%2e", BadRequest, "encoded '.'"));
        yield return ("path/backslash", Get("/dev\\simple\\six", BadRequest, "backslash"));
        yield return ("path/encoded-backslash", Get("/dev/simple/six%5C/", BadRequest, "backslash"));
        yield return ("path/nul", new("GET", "/dev/simple/six%00/", [], null, BadRequest, null));
        yield return ("path/nul-before-extension", new("GET", "/dev/files/six/six-1.16.0.tar.gz%00.whl", [], null, BadRequest, null));
        yield return ("path/encoded-env-slash", Get("/dev%2Fsimple/six/", BadRequest, "encoded '/'"));
        yield return ("path/leading-dotdot", Get("/%2E%2E/dev/simple/", BadRequest, "encoded '.'"));
        yield return ("path/too-long", Get("/" + new string('a', 3000), BadRequest, "longer than"));
        yield return ("path/unknown-environment", Get("/nope/simple/", [404], "unknown environment 'nope'"));
        yield return ("path/unknown-environment-project", Get("/nope/simple/six/", [404], "unknown environment"));
        yield return ("path/script-environment", Get("/%3Cscript%3E/simple/", [404], "unknown environment"));
        yield return ("path/unknown-environment-files", Get("/nope/files/six/six-1.16.0-py2.py3-none-any.whl", [404], "unknown environment"));
        yield return ("path/unknown-environment-json", Get("/nope/pypi/six/json", [404], "unknown environment"));
        yield return ("path/filename-too-long", Get($"/dev/files/six/{new string('a', 300)}.whl", Refused));
        yield return ("path/filename-exe", Get("/dev/files/six/six.exe", Refused));
        yield return ("path/filename-semicolon", Get("/dev/files/six/six-1.16.0.tar.gz;.whl", Refused));
        yield return ("path/filename-quote", Get("/dev/files/six/six%22.whl", Refused));
        yield return ("path/filename-space", Get("/dev/files/six/six%201.whl", Refused));
        yield return ("path/filename-lt", Get("/dev/files/six/%3Csix%3E.whl", Refused));
        yield return ("path/provenance-dotdot", Get("/dev/integrity/six/1.0/../provenance", BadRequest, "'..' segment"));
        yield return ("path/provenance-encoded-dot", Get("/dev/integrity/six/%2e%2e/x/provenance", BadRequest, "encoded '.'"));
        yield return ("path/json-encoded-slash", Get("/dev/pypi/six/..%2F/json", BadRequest, "encoded"));
        yield return ("path/json-version-script", Get("/dev/pypi/six/%3Cscript%3E/json", BadRequest, "invalid version"));
        yield return ("path/json-version-too-long", Get($"/dev/pypi/six/{new string('1', 200)}/json", BadRequest, "invalid version"));
        yield return ("path/json-version-quote", Get("/dev/pypi/six/1.0%22/json", BadRequest, "invalid version"));
        yield return ("path/api-unknown-project-name", Get("/api/v1/reviews/%3Cscript%3E", BadRequest, "not a valid project name", Bearer));

        // Headers: credentials for the token environment that are malformed, empty, foreign or wrong.
        yield return ("header/basic-not-base64", Get("/secure/simple/six/", Unauthorized, headers: [("Authorization", "Basic !!!not-base64!!!")]));
        yield return ("header/basic-no-colon", Get("/secure/simple/six/", Unauthorized, headers: [("Authorization", "Basic " + Base64("nocolon"))]));
        yield return ("header/basic-wrong-token", Get("/secure/simple/six/", Unauthorized, headers: [("Authorization", "Basic " + Base64("__token__:wrong"))]));
        yield return ("header/basic-empty", Get("/secure/simple/six/", Unauthorized, headers: [("Authorization", "Basic ")]));
        yield return ("header/bearer-empty", Get("/secure/simple/six/", Unauthorized, headers: [("Authorization", "Bearer ")]));
        yield return ("header/bearer-huge", Get("/secure/simple/six/", Unauthorized, headers: [("Authorization", "Bearer " + new string('x', 6000))]));
        yield return ("header/digest", Get("/secure/simple/six/", Unauthorized, headers: [("Authorization", "Digest username=\"a\"")]));
        yield return ("header/no-credentials-root", Get("/secure/simple/", Unauthorized));
        yield return ("header/no-credentials-files", Get("/secure/files/six/six-1.16.0-py2.py3-none-any.whl", Unauthorized));
        yield return ("header/no-credentials-json", Get("/secure/pypi/six/json", Unauthorized));
        yield return ("header/api-no-token", Get("/api/v1/reviews", Unauthorized, "authentication required"));
        yield return ("header/api-wrong-token", Get("/api/v1/reviews", Unauthorized, "authentication required", [("Authorization", "Bearer not-a-token")]));
        yield return ("header/api-basic-instead-of-bearer", Get("/api/v1/reviews", Unauthorized, "authentication required", [("Authorization", "Basic " + Base64("admin:admin"))]));
        yield return ("header/api-cookie-instead-of-bearer", Get("/api/v1/me", Unauthorized, "authentication required", [("Cookie", ".AspNetCore.Cookies=forged")]));

        // Query strings of the API.
        yield return ("query/reviews-status", Get("/api/v1/reviews?status=evil", BadRequest, "status must be", Bearer));
        yield return ("query/reviews-sort", Get("/api/v1/reviews?sort=evil", BadRequest, "sort must be", Bearer));
        yield return ("query/reviews-sort-sql", Get("/api/v1/reviews?sort=name%3BDROP%20TABLE%20users", BadRequest, "sort must be", Bearer));
        yield return ("query/reviews-status-script", Get("/api/v1/reviews?status=%3Cscript%3E", BadRequest, "status must be", Bearer));
        yield return ("query/reviews-limit-text", Get("/api/v1/reviews?limit=abc", BadRequest, "", Bearer));
        yield return ("query/reviews-offset-text", Get("/api/v1/reviews?offset=x", BadRequest, "", Bearer));
        yield return ("query/reviews-limit-overflow", Get("/api/v1/reviews?limit=99999999999999999999", BadRequest, "", Bearer));
        yield return ("query/explain-unknown-env", Get("/api/v1/explain?env=nope&project=six", [404, 400], "unknown environment", Bearer));
        yield return ("query/explain-bad-project", Get("/api/v1/explain?env=dev&project=%3Cx%3E", BadRequest, "", Bearer));
        yield return ("query/explain-no-project", Get("/api/v1/explain?env=dev", BadRequest, "", Bearer));
        yield return ("query/explain-no-env", Get("/api/v1/explain?project=six", [400, 404], "", Bearer));
        yield return ("query/explain-bad-version", Get("/api/v1/explain?env=dev&project=six&version=%3Cscript%3E", BadRequest, "", Bearer));
        yield return ("query/audit-after-text", Get("/api/v1/audit?after=abc", BadRequest, "", Bearer));
        yield return ("query/audit-limit-text", Get("/api/v1/audit?limit=many", BadRequest, "", Bearer));
        yield return ("query/audit-subject-too-long", Get($"/api/v1/audit?subject={new string('s', 3000)}", BadRequest, "longer than"));

        // API bodies.
        yield return ("body/approve-no-body", Post("/api/v1/projects/six/approve", null, BadRequest, "reason"));
        yield return ("body/approve-truncated-json", Post("/api/v1/projects/six/approve", "{\"reason\": ", BadRequest));
        yield return ("body/approve-array", Post("/api/v1/projects/six/approve", "[]", BadRequest));
        yield return ("body/approve-empty-reason", Post("/api/v1/projects/six/approve", "{\"reason\": \"\"}", BadRequest, "reason is required"));
        yield return ("body/approve-blank-reason", Post("/api/v1/projects/six/approve", "{\"reason\": \"   \"}", BadRequest, "reason is required"));
        yield return ("body/approve-number-reason", Post("/api/v1/projects/six/approve", "{\"reason\": 5}", BadRequest));
        yield return ("body/approve-huge-reason", Post("/api/v1/projects/six/approve", $"{{\"reason\": \"{new string('r', 10_000)}\"}}", BadRequest, "longer than"));
        yield return ("body/approve-control-reason", Post("/api/v1/projects/six/approve", "{\"reason\": \"ok\\u0000\\u001b[31m\"}", BadRequest, "control characters"));
        yield return ("body/approve-bad-name", Post("/api/v1/projects/%3Cx%3E/approve", "{\"reason\": \"fine\"}", BadRequest, "not a valid project name"));
        yield return ("body/approve-text-plain", Post("/api/v1/projects/six/approve", "reason=fine", [400, 415], "", "text/plain"));
        yield return ("body/deny-deep-nesting", Post("/api/v1/projects/six/deny", new string('[', 5000) + new string(']', 5000), BadRequest));
        yield return ("body/defer-duplicate-null", Post("/api/v1/projects/six/defer", "{\"reason\": null}", BadRequest, "reason is required"));
        yield return ("body/bulk-empty-projects", Post("/api/v1/decisions", "{\"projects\": [], \"verdict\": \"approved\", \"reason\": \"x\"}", BadRequest));
        yield return ("body/bulk-no-projects", Post("/api/v1/decisions", "{\"verdict\": \"approved\", \"reason\": \"x\"}", BadRequest));
        yield return ("body/bulk-bad-verdict", Post("/api/v1/decisions", "{\"projects\": [\"six\"], \"verdict\": \"maybe\", \"reason\": \"x\"}", BadRequest, "verdict"));
        yield return ("body/bulk-bad-name", Post("/api/v1/decisions", "{\"projects\": [\"../etc\"], \"verdict\": \"approved\", \"reason\": \"x\"}", BadRequest, "not a valid project name"));
        yield return ("body/bulk-number-name", Post("/api/v1/decisions", "{\"projects\": [5], \"verdict\": \"approved\", \"reason\": \"x\"}", BadRequest));
        yield return ("body/bulk-too-many", Post("/api/v1/decisions", $"{{\"projects\": [{string.Join(',', Enumerable.Range(0, 5000).Select(i => $"\"p{i}\""))}], \"verdict\": \"approved\", \"reason\": \"x\"}}", BadRequest));
        yield return ("body/bulk-no-reason", Post("/api/v1/decisions", "{\"projects\": [\"six\"], \"verdict\": \"approved\"}", BadRequest, "reason is required"));
        yield return ("body/users-bad-role", Post("/api/v1/users", "{\"userName\": \"mallory\", \"password\": \"a long enough passphrase\", \"role\": \"god\"}", BadRequest, "role"));
        yield return ("body/users-bad-name", Post("/api/v1/users", "{\"userName\": \"mal lory<\", \"password\": \"a long enough passphrase\", \"role\": \"viewer\"}", BadRequest));
        yield return ("body/users-short-password", Post("/api/v1/users", "{\"userName\": \"mallory\", \"password\": \"x\", \"role\": \"viewer\"}", BadRequest, "password"));
        yield return ("body/users-long-name", Post("/api/v1/users", $"{{\"userName\": \"{new string('m', 300)}\", \"password\": \"a long enough passphrase\", \"role\": \"viewer\"}}", BadRequest));
        yield return ("body/users-missing-fields", Post("/api/v1/users", "{}", BadRequest));
        yield return ("body/users-role-unknown-user", Post("/api/v1/users/nobody/role", "{\"role\": \"viewer\"}", [404, 400]));
        yield return ("body/users-role-bad-role", Post("/api/v1/users/nobody/role", "{\"role\": \"root\"}", [400, 404]));
    }

    private static readonly (string, string)[] Bearer = [("Authorization", $"Bearer {Infrastructure.ApiTestKit.BootstrapToken}")];

    private static HostileRequest Get(string target, int[] statuses, string reason = "", (string, string)[]? headers = null) =>
        new("GET", target, headers ?? [], null, statuses, reason);

    private static HostileRequest Post(string target, string? body, int[] statuses, string reason = "", string contentType = "application/json")
    {
        (string, string)[] headers = body is null ? Bearer : [.. Bearer, ("Content-Type", contentType)];
        return new("POST", target, headers, body, statuses, reason);
    }

    private static string Base64(string text) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text));
}
