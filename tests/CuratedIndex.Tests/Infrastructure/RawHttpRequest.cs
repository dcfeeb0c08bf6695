using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace CuratedIndex.Tests.Infrastructure;

/// <summary>An HTTP/1.1 answer read off a raw socket: status, headers (names lower-cased) and the decoded body.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// Sends a request byte-for-byte (method, target and headers exactly as given; HttpClient would normalize or refuse
/// hostile ones) and reads the whole answer, de-chunking the body.
/// </summary>
public static class RawHttpRequest
{
    public static async Task<RawResponse> SendAsync(Uri server, string method, string rawTarget, IEnumerable<(string Name, string Value)>? headers = null, string? body = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        await using var stream = client.GetStream();
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"{method} {rawTarget} HTTP/1.1\r\n");
        var extra = headers?.ToList() ?? [];
        if (!extra.Any(h => h.Name.Equals("Host", StringComparison.OrdinalIgnoreCase)))
        {
            head.Append(CultureInfo.InvariantCulture, $"Host: {server.Authority}\r\n");
        }

        foreach (var (name, value) in extra)
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        var bodyBytes = body is null ? [] : Encoding.UTF8.GetBytes(body);
        if (body is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {bodyBytes.Length}\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.UTF8.GetBytes(head.ToString()));
        await stream.WriteAsync(bodyBytes);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return Parse(buffer.ToArray());
    }

    private static RawResponse Parse(byte[] raw)
    {
        var split = raw.AsSpan().IndexOf("\r\n\r\n"u8);
        var headText = Encoding.ASCII.GetString(raw, 0, split < 0 ? raw.Length : split);
        var bodyBytes = split < 0 ? [] : raw[(split + 4)..];
        var lines = headText.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ', 3)[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                var name = line[..colon].Trim().ToLowerInvariant();
                var value = line[(colon + 1)..].Trim();
                headers[name] = headers.TryGetValue(name, out var earlier) ? $"{earlier}, {value}" : value;
            }
        }

        if (headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            bodyBytes = Dechunk(bodyBytes);
        }

        return new RawResponse(status, headers, Encoding.UTF8.GetString(bodyBytes));
    }

    private static byte[] Dechunk(byte[] chunked)
    {
        using var result = new MemoryStream();
        var position = 0;
        while (position < chunked.Length)
        {
            var end = chunked.AsSpan(position).IndexOf("\r\n"u8);
            if (end < 0)
            {
                break;
            }

            var sizeText = Encoding.ASCII.GetString(chunked, position, end).Split(';')[0];
            var size = int.Parse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                break;
            }

            result.Write(chunked, position + end + 2, size);
            position += end + 2 + size + 2;
        }

        return result.ToArray();
    }
}
