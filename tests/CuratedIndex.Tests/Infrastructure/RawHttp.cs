using System.Net.Sockets;
using System.Text;

namespace CuratedIndex.Tests.Infrastructure;

/// <summary>Sends a request target byte-for-byte (HttpClient would normalize "..", "%2e" and backslashes away).</summary>
public static class RawHttp
{
    public static async Task<(int Status, string Body)> GetAsync(Uri server, string rawTarget)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        await using var stream = client.GetStream();
        var request = $"GET {rawTarget} HTTP/1.1\r\nHost: {server.Authority}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        var status = int.Parse(response.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        var body = response.Split("\r\n\r\n", 2) is [_, var rest] ? rest : "";
        return (status, body);
    }
}
