using System.Net;
using AngleSharp;
using AngleSharp.Dom;
using CuratedIndex.Features.Accounts;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Infrastructure;

/// <summary>
/// A browser-like client of the review UI over real HTTP: a cookie jar, no automatic redirects, pages parsed with
/// AngleSharp, and forms submitted the way a browser would (every named field, including the antiforgery token).
/// </summary>
public sealed class UiSession : IDisposable
{
    public const string Password = "correct horse battery staple";

    public UiSession(Uri baseUrl)
    {
        BaseUrl = baseUrl;
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = Cookies })
        {
            BaseAddress = baseUrl,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>A session with <paramref name="proxy"/> however it runs: over a socket, or in process (no socket).</summary>
    public UiSession(ProxyInstance proxy)
    {
        BaseUrl = proxy.BaseUrl;
        HttpMessageHandler handler = proxy.InProcess
            ? new Microsoft.AspNetCore.Mvc.Testing.Handlers.CookieContainerHandler(Cookies) { InnerHandler = proxy.CreateHandler() }
            : new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = Cookies };
        Client = new HttpClient(handler) { BaseAddress = proxy.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseUrl { get; }

    /// <summary>Creates <paramref name="userName"/> with <paramref name="role"/> and signs in through the real form.</summary>
    public static async Task<UiSession> SignedInAsync(ProxyInstance proxy, string userName, string role)
    {
        await proxy.Services.GetRequiredService<AccountService>().CreateUserAsync(userName, Password, role, "test", CancellationToken.None);
        var session = new UiSession(proxy);
        using var response = await session.SignInAsync(userName);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return session;
    }

    public CookieContainer Cookies { get; } = new();

    public HttpClient Client { get; }

    public static async Task<IDocument> ParseAsync(string html)
    {
        var context = BrowsingContext.New(Configuration.Default);
        return await context.OpenAsync(request => request.Content(html));
    }

    public async Task<(HttpResponseMessage Response, IDocument Document, string Html)> GetAsync(string path)
    {
        var response = await Client.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        return (response, await ParseAsync(html), html);
    }

    /// <summary>Fetches <paramref name="path"/>, fills the form matching <paramref name="formSelector"/> and posts it to its action.</summary>
    public async Task<HttpResponseMessage> SubmitAsync(string path, string formSelector, params (string Name, string Value)[] fields)
    {
        var (response, document, _) = await GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}");
        var form = document.QuerySelector(formSelector) ?? throw new InvalidOperationException($"no form '{formSelector}' on {path}");
        var values = new List<KeyValuePair<string, string>>();
        foreach (var input in form.QuerySelectorAll("input[type=hidden][name]"))
        {
            if (!fields.Any(f => f.Name == input.GetAttribute("name")))
            {
                values.Add(new(input.GetAttribute("name")!, input.GetAttribute("value") ?? ""));
            }
        }

        values.AddRange(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
        var action = form.GetAttribute("action") is { Length: > 0 } a ? a : path;
        return await PostAsync(action, values);
    }

    public async Task<HttpResponseMessage> PostAsync(string path, IEnumerable<KeyValuePair<string, string>> values)
    {
        using var content = new FormUrlEncodedContent(values);
        return await Client.PostAsync(path, content);
    }

    /// <summary>The antiforgery token of any form on the page (the layout's sign-out form is on every signed-in page).</summary>
    public async Task<string> TokenFromAsync(string path)
    {
        var (_, document, _) = await GetAsync(path);
        return document.QuerySelector("input[name=__RequestVerificationToken]")?.GetAttribute("value")
            ?? throw new InvalidOperationException($"no antiforgery token on {path}");
    }

    public async Task<HttpResponseMessage> SignInAsync(string userName, string password = Password, string path = "ui/login") =>
        await SubmitAsync(path, "#sign-in-form", ("UserName", userName), ("Password", password));

    public void Dispose() => Client.Dispose();
}
