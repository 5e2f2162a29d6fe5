using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using CsCheck;
using Rocket.Live;
using Xunit.Abstractions;

namespace Rocket.Fuzz.Tests;

/// <summary>
/// Random requests to a real Kestrel server: <c>Last-Event-ID</c> headers of any length and bytes, ids in
/// <c>/messages/{id}</c> with <c>/</c>, <c>~</c>, <c>%2F</c>, <c>..</c>, non-ASCII and bad percent-encodings, and
/// bodies that are not JSON or not UTF-8. Every answer has a documented status (never 500), a problem body is
/// <c>application/problem+json</c>, nothing is logged as a failure, and a refused request leaves the collection's
/// document and cursor as they were.
/// </summary>
public sealed class HttpFuzzTests(ITestOutputHelper output)
{
    /// <summary>The statuses README documents for the collection URL and the scaffold (and Kestrel's own 400).</summary>
    private static readonly int[] Documented = [200, 201, 204, 304, 400, 404, 405, 406, 409, 412, 413, 415];

    /// <summary>Records the server holds from the start, under ids that are hard for routes and pointers.</summary>
    private static readonly string[] SeededIds = ["a", "a/b", "~", "~1", "..", ".", "%2F", "é", "x y", "\U0001F680", "a?b", "a#b", "1"];

    private static readonly Gen<string> Id = Gen.Frequency(
        (4, Gen.OneOf(SeededIds)),
        (1, Gen.OneOf("", "missing", "a/", "/a", "../messages", "a%", "%", "%ZZ", "\u0000", "a\\b", "\u00ff")),
        (1, Gen.String[0, 6]));

    /// <summary>How an id goes into the URL: escaped, raw, each byte percent-encoded, or with a byte of bad UTF-8.</summary>
    private static readonly Gen<Func<string, string>> PathEncoding = Gen.OneOf<Func<string, string>>(
        static id => Uri.EscapeDataString(id),
        static id => id,
        static id => string.Concat(Encoding.UTF8.GetBytes(id).Select(static b => $"%{b:X2}")),
        static id => Uri.EscapeDataString(id) + "%FF",
        static id => "%ED%A0%80" + Uri.EscapeDataString(id),
        static id => Uri.EscapeDataString(id).Replace("%2F", "%2f", StringComparison.Ordinal) + "/..");

    /// <summary>
    /// Header text: cursors and near misses, printable ASCII, and any byte but CR and LF (as Latin-1 chars: one byte each).
    /// </summary>
    private static readonly Gen<string> HeaderValue = Gen.Frequency(
        (2, Gen.OneOf("", "0", "garbage", "ffffffff.0", "00000000.00", " ", "\t", "0000abcd.1, 0000abcd.2")),
        (2, Gen.Char[' ', '~'].Array[0, 40].Select(static c => new string(c))),
        (2, Gen.Char[(char)0, (char)0xFF].Where(static c => c is not ('\r' or '\n')).Array[0, 40].Select(static c => new string(c))),
        (1, Gen.Int[100, 16_000].Select(static n => new string('7', n))));

    private static readonly Gen<byte[]> JsonBody = Gen.Frequency(
        (4, Gens.Object(3).Select(static node => Encoding.UTF8.GetBytes(Gens.Text(node, relaxed: true)))),
        (2, Gens.Mutated(Gens.Object(2).Select(static node => Encoding.UTF8.GetBytes(Gens.Text(node, relaxed: true))), max: 2)),
        (1, Gen.Byte.Array[0, 30]),
        (1, Gen.Int[FuzzServer.MaxRecordBytes - 64, FuzzServer.MaxBodyBytes + 64].Select(static n => Encoding.UTF8.GetBytes($$"""{"t":"{{new string('x', n)}}"}"""))));

    private static readonly Gen<byte[]> PatchBody = Gen.Frequency(
        (4, Gens.Patch(Gens.Pointer, 3).Select(static s => Encoding.UTF8.GetBytes(s))),
        (2, Gens.Mutated(Gens.Patch(Gens.Pointer, 2).Select(static s => Encoding.UTF8.GetBytes(s)), max: 2)),
        (1, Gen.OneOf("""[{"op":"remove","path":"/id"}]""", """[{"op":"replace","path":"/id","value":"x"}]""", """[{"op":"copy","from":"","path":"/c"},{"op":"copy","from":"","path":"/d"},{"op":"copy","from":"","path":"/e"}]""", """[{"op":"test","path":"/n","value":1e99999999999}]""").Select(static s => Encoding.UTF8.GetBytes(s))));

    private static readonly Gen<string?> ContentType = Gen.Frequency(
        (6, Gen.Const((string?)null)),
        (1, Gen.OneOf<string?>("application/json", "application/json; charset=utf-8", "application/json; charset=latin1", "application/json-patch+json", "text/plain", "application/*", ";;", "application/json; charset=\"utf-8\"", "\u00ff/\u00ff")));

    private static readonly Gen<Request> Requests = Gen.Select(
        Gen.Frequency((2, Gen.Const(Kind.GetDocument)), (2, Gen.Const(Kind.GetStream)), (2, Gen.Const(Kind.GetRecord)), (2, Gen.Const(Kind.Post)), (3, Gen.Const(Kind.Put)), (4, Gen.Const(Kind.Patch)), (2, Gen.Const(Kind.Delete)), (1, Gen.Const(Kind.OtherMethod))),
        Gen.Select(Id, PathEncoding, static (id, encode) => (id, encode(id))),
        HeaderValue,
        Gen.Frequency((3, Gen.Const(Precondition.None)), (1, Gen.Const(Precondition.Current)), (1, Gen.Const(Precondition.Other))),
        Gen.Select(JsonBody, PatchBody, ContentType, Gen.Bool),
        static (kind, id, header, precondition, body) => new Request(kind, id.Item1, id.Item2, header, precondition, body.Item1, body.Item2, body.Item3, body.Item4));

    private enum Kind
    {
        GetDocument,
        GetStream,
        GetRecord,
        Post,
        Put,
        Patch,
        Delete,
        OtherMethod,
    }

    private enum Precondition
    {
        None,
        Current,
        Other,
    }

    [Fact]
    public async Task Requests_HostileInputs_DocumentedStatusAndRefusalsChangeNothing()
    {
        await using var server = await FuzzServer.StartAsync();
        foreach (var id in SeededIds)
        {
            server.Live.Create(id, Encoding.UTF8.GetBytes($$"""{"id":{{System.Text.Json.JsonSerializer.Serialize(id)}},"n":1,"list":[1,2]}"""));
        }

        var statuses = new int[600];
        await Fuzz.RunAsync(
            Requests,
            async request => statuses[await CheckAsync(server, request)]++,
            seed: 0x5EED_0501,
            ciCases: 300,
            output,
            cost: 100,
            print: static r => r.ToString());
        output.WriteLine(string.Join(", ", statuses.Select(static (n, status) => (n, status)).Where(static p => p.n > 0).Select(static p => $"{p.status}: {p.n}")));
        Assert.Empty(server.Errors.Entries);
    }

    private static async Task<int> CheckAsync(FuzzServer server, Request request)
    {
        var before = await GetStateAsync(server);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int status;
        if (request.Kind == Kind.GetStream)
        {
            status = await OpenStreamAsync(server, request, timeout.Token);
        }
        else
        {
            using var message = request.Build(server, before.Record(request.Id));
            using var response = await server.Client.SendAsync(message, timeout.Token);
            status = (int)response.StatusCode;
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            Assert.True(Documented.Contains(status), $"{request}: {status} {Encoding.UTF8.GetString(body)}");
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (status >= 400 && body.Length > 0)
            {
                Assert.True(mediaType == "application/problem+json", $"{request}: {status} with {mediaType}: {Encoding.UTF8.GetString(body)}");
            }
        }
        var after = await GetStateAsync(server);
        var isWrite = request.Kind is Kind.Post or Kind.Put or Kind.Patch or Kind.Delete;
        if (isWrite && status is >= 200 and < 300)
        {
            Assert.True(after.Cursor.Sequence == before.Cursor.Sequence + 1 && after.Cursor.Epoch == before.Cursor.Epoch, $"{request}: {status}, cursor {before.Cursor} then {after.Cursor}");
        }
        else
        {
            Assert.True(before.Cursor == after.Cursor && before.Body == after.Body, $"{request}: {status} changed the collection: {before.Body} ({before.Cursor}) then {after.Body} ({after.Cursor})");
        }

        Assert.Empty(server.Errors.Entries);
        return status;
    }

    /// <summary>
    /// Opens the event stream over a plain socket, so the <c>Last-Event-ID</c> value goes out as its bytes exactly (any
    /// byte but CR and LF, which would end the header); reads the answer's head and, for a stream, its first bytes; then
    /// drops the connection, as a client that goes away does.
    /// </summary>
    private static async Task<int> OpenStreamAsync(FuzzServer server, Request request, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, cancellationToken);
        var head = Encoding.Latin1.GetBytes($"GET /{FuzzServer.Collection} HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nAccept: text/event-stream\r\nLast-Event-ID: {request.Header}\r\n\r\n");
        await socket.SendAsync(head, SocketFlags.None, cancellationToken);

        var buffer = new byte[64 * 1024];
        var length = 0;
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken);
            length += read;
            var text = Encoding.Latin1.GetString(buffer, 0, length);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (read == 0 || (end >= 0 && (!text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) || text.IndexOf("retry:", end, StringComparison.Ordinal) >= 0)))
            {
                Assert.True(end >= 0, $"{request}: the connection ended before the answer's head: {text}");
                var status = int.Parse(text.AsSpan(9, 3), provider: System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(Documented.Contains(status), $"{request}: {text}");
                if (status == 200)
                {
                    // Whatever the cursor, the stream starts at once: its type, then retry and a comment.
                    Assert.Contains("\r\nContent-Type: text/event-stream", text[..end], StringComparison.OrdinalIgnoreCase);
                }

                return status;
            }
        }
    }

    private static async Task<State> GetStateAsync(FuzzServer server)
    {
        using var response = await server.Client.GetAsync(FuzzServer.Collection + "?form=keyed");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(Cursor.TryParse(response.Headers.GetValues("Last-Event-ID").Single(), out var cursor));
        return new State(await response.Content.ReadAsStringAsync(), cursor, server.Live);
    }

    private sealed record State(string Body, Cursor Cursor, LiveCollection Live)
    {
        public ReadOnlyMemory<byte>? Record(string id) => Live.TryGet(id, out var record) ? record : null;
    }

    private sealed record Request(Kind Kind, string Id, string Path, string Header, Precondition Precondition, byte[] Json, byte[] Patch, string? ContentType, bool WithLastEventId)
    {
        public HttpRequestMessage Build(FuzzServer server, ReadOnlyMemory<byte>? current)
        {
            // HttpClient refuses NUL in a header value (the raw stream request sends it).
            var header = Header.Replace("\0", string.Empty, StringComparison.Ordinal);
            var collection = new Uri(server.BaseAddress, FuzzServer.Collection);
            var record = new Uri(server.BaseAddress + FuzzServer.Collection + "/" + Path, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
            var message = Kind switch
            {
                Kind.GetDocument => new HttpRequestMessage(HttpMethod.Get, WithLastEventId ? collection : new Uri(collection + "?form=" + Uri.EscapeDataString(header[..Math.Min(header.Length, 100)]))),
                Kind.GetStream => new HttpRequestMessage(HttpMethod.Get, collection),
                Kind.GetRecord => new HttpRequestMessage(HttpMethod.Get, record),
                Kind.Post => new HttpRequestMessage(HttpMethod.Post, collection) { Content = Body(Json, "application/json") },
                Kind.Put => new HttpRequestMessage(HttpMethod.Put, record) { Content = Body(Json, "application/json") },
                Kind.Patch => new HttpRequestMessage(HttpMethod.Patch, record) { Content = Body(Patch, "application/json-patch+json") },
                Kind.Delete => new HttpRequestMessage(HttpMethod.Delete, record),
                _ => new HttpRequestMessage(WithLastEventId ? HttpMethod.Delete : HttpMethod.Put, collection) { Content = Body(Json, "application/json") },
            };

            if (Kind is Kind.GetStream || WithLastEventId)
            {
                message.Headers.TryAddWithoutValidation("Last-Event-ID", header);
            }

            if (Kind == Kind.GetStream)
            {
                message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            }

            if (Kind == Kind.GetDocument && !WithLastEventId)
            {
                message.Headers.TryAddWithoutValidation("Accept", header);
            }

            var etag = Precondition switch
            {
                Precondition.Current when current is { } bytes => ETag(bytes.Span),
                Precondition.None => null,
                _ => header,
            };
            if (etag is not null)
            {
                message.Headers.TryAddWithoutValidation(Kind == Kind.GetRecord ? "If-None-Match" : "If-Match", etag);
            }

            return message;
        }

        public override string ToString() =>
            $"{Kind} id {Show(Id)} as /{Show(Path)}, header {Show(Header[..Math.Min(Header.Length, 80)])} ({Header.Length} chars), {Precondition}, content type {ContentType ?? "(default)"}, "
            + (Kind == Kind.Patch ? $"patch {Gens.Show(Patch)}" : $"body {Gens.Show(Json)}");

        private static string Show(string text) => string.Concat(text.Select(static c => c is >= ' ' and < '\u007f' ? c.ToString() : $"\\u{(int)c:x4}"));

        // The scaffold's ETag: 96 bits of the record's SHA-256, base64url, quoted.
        private static string ETag(ReadOnlySpan<byte> record) =>
            $"\"{Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(record)[..12]).Replace('+', '-').Replace('/', '_')}\"";

        private ByteArrayContent Body(byte[] bytes, string mediaType)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.TryAddWithoutValidation("Content-Type", ContentType ?? mediaType);
            return content;
        }
    }
}
