using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Interop.Tests;

/// <summary>
/// The sample's event stream read by .NET's own <see cref="SseParser"/> (System.Net.ServerSentEvents) over a real
/// HttpClient, while every byte read is kept: the parsed items and the raw wire are both checked against frames
/// built from what the server itself returned (the GET's Last-Event-ID, the POST's record), byte for byte.
/// </summary>
public sealed class SseParserTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public Task SseParser_ResetAddRemoveOverHttp11_FramesAreByteExact() =>
        ReadResetAddRemoveAsync(HttpVersion.Version11);

    // h2c with prior knowledge: Kestrel serves cleartext HTTP/2 on an endpoint whose only protocol is Http2, and
    // HttpClient speaks it when the request asks for exactly 2.0 over http://.
    [Fact]
    public Task SseParser_ResetAddRemoveOverHttp2PriorKnowledge_FramesAreByteExact() =>
        ReadResetAddRemoveAsync(HttpVersion.Version20, "--Kestrel:EndpointDefaults:Protocols", "Http2");

    private static async Task ReadResetAddRemoveAsync(Version version, params string[] serverArgs)
    {
        await using var server = await SampleServer.StartAsync(serverArgs);
        using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = Timeout };
        using var deadline = new CancellationTokenSource(Timeout);
        var cancellationToken = deadline.Token;

        // The document a fresh server holds, and the cursor of that state.
        var (keyed, cursor0) = await GetDocumentAsync(client, "/messages?form=keyed", version, cancellationToken);
        Assert.Equal("""{"messages":{}}""", keyed);

        using var streamRequest = Request(HttpMethod.Get, "/messages", version);
        streamRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var streamResponse = await client.SendAsync(streamRequest, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, streamResponse.StatusCode);
        Assert.Equal(version, streamResponse.Version);
        Assert.Equal("text/event-stream", streamResponse.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", string.Join(", ", streamResponse.Headers.GetValues("Cache-Control")));
        Assert.Equal("no", string.Join(", ", streamResponse.Headers.GetValues("X-Accel-Buffering")));

        var raw = new RecordingStream(await streamResponse.Content.ReadAsStreamAsync(cancellationToken));
        await using var _ = raw;
        var parser = SseParser.Create(raw);
        var items = parser.EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using var __ = items;
        var expectedWire = new StringBuilder(": rocket\n"); // after the retry: line, whose value is drawn per stream

        // 1. No cursor: the stream starts with a reset to the (empty) document, at the GET's cursor.
        var resetData = $$"""[{"op":"replace","path":"","value":{{keyed}}}]""";
        await ExpectFrameAsync(parser, items, raw, expectedWire, cursor0, resetData);

        // 2. A create: an add of exactly the record the POST returned, at the cursor the next GET reports.
        using var post = Request(HttpMethod.Post, "/messages", version);
        post.Content = new StringContent("""{"text":"hello, SseParser"}""", Encoding.UTF8, "application/json");
        using var postResponse = await client.SendAsync(post, cancellationToken);
        var record = await postResponse.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(postResponse.StatusCode == HttpStatusCode.Created, $"POST /messages: {(int)postResponse.StatusCode} {record}");
        string id;
        using (var document = JsonDocument.Parse(record))
        {
            id = document.RootElement.GetProperty("id").GetString()!;
        }

        var (_, cursor1) = await GetDocumentAsync(client, "/messages", version, cancellationToken);
        Assert.NotEqual(cursor0, cursor1);
        await ExpectFrameAsync(parser, items, raw, expectedWire, cursor1, $$"""[{"op":"add","path":"{{Pointer(id)}}","value":{{record}}}]""");

        // 3. A destroy: a remove of that path.
        using var delete = Request(HttpMethod.Delete, $"/messages/{Uri.EscapeDataString(id)}", version);
        using var deleteResponse = await client.SendAsync(delete, cancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, deleteResponse.StatusCode);
        var (_, cursor2) = await GetDocumentAsync(client, "/messages", version, cancellationToken);
        Assert.NotEqual(cursor1, cursor2);
        await ExpectFrameAsync(parser, items, raw, expectedWire, cursor2, $$"""[{"op":"remove","path":"{{Pointer(id)}}"}]""");
    }

    private static async Task<(string Body, string Cursor)> GetDocumentAsync(
        HttpClient client, string path, Version version, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, path, version);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await client.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        Assert.Equal(version, response.Version);
        Assert.True(response.Headers.TryGetValues("Last-Event-ID", out var values), $"GET {path}: no Last-Event-ID header");
        return (body, values.Single());
    }

    // A request's own Version wins over HttpClient.DefaultRequestVersion, which only the helper methods use.
    private static HttpRequestMessage Request(HttpMethod method, string path, Version version) =>
        new(method, new Uri(path, UriKind.Relative)) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

    // Parses the next item, checks it field by field, then checks that the wire so far is exactly the expected frames:
    // nothing else has been sent, because nothing else has happened (heartbeats come only after 15 idle seconds).
    private static async Task ExpectFrameAsync(
        SseParser<string> parser, IAsyncEnumerator<SseItem<string>> items, RecordingStream raw, StringBuilder expectedWire, string cursor, string data)
    {
        Assert.True(await items.MoveNextAsync(), $"the stream ended before the event {cursor}");
        var item = items.Current;
        Assert.Equal("patch", item.EventType);
        Assert.Equal(cursor, item.EventId);
        Assert.Equal(data, item.Data);
        expectedWire.Append("event: patch\nid: ").Append(cursor).Append("\ndata: ").Append(data).Append("\n\n");
        var recorded = raw.Recorded;

        // The stream opens with `retry: N`, N drawn per stream from 3000 ms ± 50 % (SseTransportOptions.RetryJitter); it
        // sets the stream's reconnection time (the parser's), not a field of one event (WHATWG HTML 9.2.6).
        var wire = Encoding.UTF8.GetString(recorded);
        Assert.StartsWith("retry: ", wire, StringComparison.Ordinal);
        var retryLine = wire[..(wire.IndexOf('\n', StringComparison.Ordinal) + 1)];
        var retry = int.Parse(retryLine.AsSpan("retry: ".Length, retryLine.Length - "retry: ".Length - 1), NumberStyles.None, CultureInfo.InvariantCulture);
        Assert.InRange(retry, 1500, 4500);
        Assert.Equal(TimeSpan.FromMilliseconds(retry), parser.ReconnectionInterval);
        var expected = retryLine + expectedWire;
        Assert.Equal(expected, Encoding.UTF8.GetString(recorded));
        Assert.True(Encoding.UTF8.GetBytes(expected).AsSpan().SequenceEqual(recorded), "the wire is not byte-exact UTF-8 of the expected frames");
    }

    // RFC 6901 reference token, then JSON string escaping for the characters a JSON Pointer may need escaped in JSON.
    private static string Pointer(string id) =>
        "/messages/" + id.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)
            .Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
