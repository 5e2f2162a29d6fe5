using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Rocket.AspNetCore;
using Rocket.Live;

namespace Rocket.AspNetCore.Tests;

/// <summary>
/// <c>GET /messages</c> with <c>Accept: text/event-stream</c> on a real Kestrel: headers, the prelude, resets, resume by
/// header or query, heartbeats, slow consumers, disconnects, shutdown and HTTP/2, asserted on the wire byte for byte.
/// </summary>
public sealed class SseEndpointTests
{
    private const string Prelude = "retry: 3000\n: rocket\n";

    [Fact]
    public async Task Stream_Headers_EventStreamNoCacheNoBuffering()
    {
        await using var server = await RocketServer.StartAsync();

        using var response = await server.OpenStreamAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", string.Join(",", response.Content.Headers.GetValues("Content-Type")));
        Assert.Equal("no-cache", string.Join(",", response.Headers.GetValues("Cache-Control")));
        Assert.Equal("no", string.Join(",", response.Headers.GetValues("X-Accel-Buffering")));
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Null(response.Content.Headers.ContentLength);
        Assert.True(response.Headers.TransferEncodingChunked);
    }

    // A server that stops sends its browsers back after their retry:, so each stream gets its own value: drawn from
    // RetryInterval × (1 ± RetryJitter), whole milliseconds. The bounds are what is documented; spread is shown by the
    // values not all being equal (40 draws from 3,001 values).
    [Theory]
    [InlineData(0.5, 3000, 1500, 4500)]
    [InlineData(1.0, 1000, 0, 2000)]     // full width: from nothing to twice the interval
    [InlineData(0.1, 2000, 1800, 2200)]
    public async Task Stream_RetryDrawnPerStream_WithinTheDocumentedBoundsAndSpread(double jitter, int intervalMs, int lowMs, int highMs)
    {
        await using var server = await RocketServer.StartAsync(o => o.SseTransport = sse =>
        {
            sse.RetryInterval = TimeSpan.FromMilliseconds(intervalMs);
            sse.RetryJitter = jitter;
        });

        var values = new List<int>();
        for (var i = 0; i < 40; i++)
        {
            using var response = await server.OpenStreamAsync();
            using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
            var prelude = await reader.ReadUntilAsync(": rocket\n");
            Assert.Matches("^retry: [0-9]+\n: rocket\n$", prelude);
            values.Add(int.Parse(prelude.AsSpan(7, prelude.IndexOf('\n', StringComparison.Ordinal) - 7), System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.All(values, v => Assert.InRange(v, lowMs, highMs));
        Assert.True(values.Distinct().Count() > 1, $"every stream got retry: {values[0]}");
    }

    [Fact]
    public async Task Stream_Start_RetryThenRocketComment()
    {
        await using var server = await RocketServer.StartAsync();
        using var response = await server.OpenStreamAsync();
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal(Prelude, await reader.ReadTextAsync(Prelude.Length));
    }

    [Fact]
    public async Task Stream_NoCursor_ResetFrameByteExact()
    {
        await using var server = await RocketServer.StartAsync();
        var first = await server.PostAsync("""{"text":"one"}""");
        var second = await server.PostAsync("""{"text":"two"}""");
        var cursor = server.Live.Cursor.ToString();
        using var response = await server.OpenStreamAsync();
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());

        var text = await reader.ReadEventAsync();

        Assert.Equal(
            Prelude + "event: patch\nid: " + cursor + "\ndata: [{\"op\":\"replace\",\"path\":\"\",\"value\":{\"messages\":{"
            + $"\"{first}\":{{\"id\":\"{first}\",\"text\":\"one\"}},\"{second}\":{{\"id\":\"{second}\",\"text\":\"two\"}}"
            + "}}}]\n\n",
            text);
    }

    [Fact]
    public async Task Stream_EmptyCollectionNoCursor_ResetToEmptyDocument()
    {
        await using var server = await RocketServer.StartAsync();
        var cursor = server.Live.Cursor.ToString();
        using var response = await server.OpenStreamAsync();
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());

        var text = await reader.ReadEventAsync();

        Assert.Equal(Prelude + "event: patch\nid: " + cursor + "\ndata: [{\"op\":\"replace\",\"path\":\"\",\"value\":{\"messages\":{}}}]\n\n", text);
    }

    [Fact]
    public async Task Stream_ScaffoldWrites_AddReplaceRemoveFramesWithIncreasingIds()
    {
        await using var server = await RocketServer.StartAsync();
        using var response = await server.OpenStreamAsync();
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var reset = await reader.ReadEventAsync();

        var id = await server.PostAsync("""{"text":"one"}""");
        var add = await reader.ReadEventAsync();
        using (var put = await server.Client.PutAsync($"messages/{id}", RocketServer.Json("""{"text":"two"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var replace = await reader.ReadEventAsync();
        using (var patch = new HttpRequestMessage(HttpMethod.Patch, $"messages/{id}"))
        {
            patch.Content = RocketServer.Json("""[{"op":"add","path":"/done","value":true}]""", "application/json-patch+json");
            using var patched = await server.Client.SendAsync(patch);
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        }

        var patchReplace = await reader.ReadEventAsync();
        using (var delete = await server.Client.DeleteAsync($"messages/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        var remove = await reader.ReadEventAsync();

        var start = SseReader.IdOf(reset);
        var epoch = start[..9];
        Assert.Equal($$$"""event: patch\nid: {{{epoch}}}1\ndata: [{"op":"add","path":"/messages/{{{id}}}","value":{"id":"{{{id}}}","text":"one"}}]\n\n""".Replace("\\n", "\n", StringComparison.Ordinal), add);
        Assert.Equal($$$"""event: patch\nid: {{{epoch}}}2\ndata: [{"op":"replace","path":"/messages/{{{id}}}","value":{"id":"{{{id}}}","text":"two"}}]\n\n""".Replace("\\n", "\n", StringComparison.Ordinal), replace);
        Assert.Equal($$$"""event: patch\nid: {{{epoch}}}3\ndata: [{"op":"replace","path":"/messages/{{{id}}}","value":{"id":"{{{id}}}","text":"two","done":true}}]\n\n""".Replace("\\n", "\n", StringComparison.Ordinal), patchReplace);
        Assert.Equal($$$"""event: patch\nid: {{{epoch}}}4\ndata: [{"op":"remove","path":"/messages/{{{id}}}"}]\n\n""".Replace("\\n", "\n", StringComparison.Ordinal), remove);
        Assert.Equal(epoch + "0", start);
    }

    [Fact]
    public async Task Stream_RefusedWrite_PublishesNothing()
    {
        await using var server = await RocketServer.StartAsync();
        using var response = await server.OpenStreamAsync();
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        await reader.ReadEventAsync();

        using (var refused = await server.Client.PostAsync("messages", RocketServer.Json("""{"id":"mine"}""")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        using (var refused = await server.Client.DeleteAsync("messages/nope"))
        {
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }

        // The next event on the stream is the next accepted write, with the next sequence number: nothing came between.
        var id = await server.PostAsync("""{"text":"ok"}""");
        var frame = await reader.ReadEventAsync();
        Assert.Contains($"\"path\":\"/messages/{id}\"", frame, StringComparison.Ordinal);
        Assert.EndsWith(".1", SseReader.IdOf(frame), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_LastEventIdHeader_ExactlyTheEventsAfterIt()
    {
        await using var server = await RocketServer.StartAsync();
        await server.PostAsync("""{"text":"a"}""");
        var after = server.Live.Cursor.ToString();
        var b = await server.PostAsync("""{"text":"b"}""");
        var c = await server.PostAsync("""{"text":"c"}""");

        using var response = await server.OpenStreamAsync(lastEventIdHeader: after);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());

        await AssertResumedAsync(server, reader, after, b, c);
    }

    [Fact]
    public async Task Stream_LastEventIdQuery_ExactlyTheEventsAfterIt()
    {
        await using var server = await RocketServer.StartAsync();
        await server.PostAsync("""{"text":"a"}""");
        var after = server.Live.Cursor.ToString();
        var b = await server.PostAsync("""{"text":"b"}""");
        var c = await server.PostAsync("""{"text":"c"}""");

        using var response = await server.OpenStreamAsync(query: "?lastEventId=" + Uri.EscapeDataString(after));
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());

        await AssertResumedAsync(server, reader, after, b, c);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("current")]
    public async Task Stream_HeaderAndQuery_HeaderWins(string query)
    {
        await using var server = await RocketServer.StartAsync();
        var beforeAll = server.Live.Cursor.ToString();
        await server.PostAsync("""{"text":"a"}""");
        var after = server.Live.Cursor.ToString();
        var b = await server.PostAsync("""{"text":"b"}""");
        var c = await server.PostAsync("""{"text":"c"}""");
        // Either a query the header must override with a resume (garbage would reset), or a valid but different cursor.
        var queryCursor = query == "garbage" ? "garbage" : beforeAll;

        using var response = await server.OpenStreamAsync(lastEventIdHeader: after, query: "?lastEventId=" + queryCursor);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());

        await AssertResumedAsync(server, reader, after, b, c);
    }

    [Fact]
    public async Task Stream_CurrentCursor_NothingThenLive()
    {
        await using var server = await RocketServer.StartAsync();
        await server.PostAsync("""{"text":"a"}""");
        var current = server.Live.Cursor.ToString();
        using var response = await server.OpenStreamAsync(lastEventIdHeader: current);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal(Prelude, await reader.ReadTextAsync(Prelude.Length));

        var id = await server.PostAsync("""{"text":"b"}""");

        var frame = await reader.ReadEventAsync();
        Assert.StartsWith($"event: patch\nid: {current[..9]}{SseReader.SequenceOf(current) + 1}\ndata: [{{\"op\":\"add\",\"path\":\"/messages/{id}\"", frame, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("")]
    [InlineData("otherEpoch")]
    [InlineData("upperCaseEpoch")]
    [InlineData("future")]
    [InlineData("tooOld")]
    public async Task Stream_UnusableCursor_Reset(string kind)
    {
        // The epoch is fixed and has hex letters in it, so the upper-cased cursor always differs from the real one
        // (a random epoch of decimal digits only, about 1 in 40, would leave it unchanged and valid).
        await using var server = await RocketServer.StartAsync(static o => o.Collection = static c =>
        {
            c.HistoryMaxEvents = 2;
            c.Epoch = 0x5eed_cafe;
        });
        var id = await server.PostAsync("""{"text":"a"}""");
        await server.PostAsync("""{"text":"b"}""");
        await server.PostAsync("""{"text":"c"}""");
        var live = server.Live;
        var cursor = kind switch
        {
            "garbage" => "garbage",
            "" => "",
            "otherEpoch" => new Cursor(live.Epoch ^ 0x1, 1).ToString(),
            "upperCaseEpoch" => live.Cursor.ToString().ToUpperInvariant(),
            "future" => new Cursor(live.Epoch, 100).ToString(),
            _ => new Cursor(live.Epoch, 0).ToString(), // three events ago; the history keeps two
        };
        var current = live.Cursor.ToString();

        using var response = await server.OpenStreamAsync(lastEventIdHeader: kind == "" ? null : cursor, query: kind == "" ? "?lastEventId=" : null);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());

        var frame = await reader.ReadEventAsync();
        Assert.StartsWith(Prelude + $"event: patch\nid: {current}\ndata: [{{\"op\":\"replace\",\"path\":\"\",\"value\":{{\"messages\":{{\"{id}\":", frame, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_ShortHeartbeatInterval_BareCommentArrives()
    {
        await using var server = await RocketServer.StartAsync(static o => o.Collection = static c => c.HeartbeatInterval = TimeSpan.FromMilliseconds(100));
        using var response = await server.OpenStreamAsync();
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        await reader.ReadEventAsync();

        // Nothing is published, so the next bytes on the wire are heartbeats, each a bare comment line.
        Assert.Equal(":\n", await reader.ReadUntilAsync(":\n", TimeSpan.FromSeconds(5)));
        Assert.Equal(":\n", await reader.ReadUntilAsync(":\n", TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Stream_PastTheSubscriberLimit_503WithRetryAfterUntilAPlaceIsFree()
    {
        await using var server = await RocketServer.StartAsync(static o => o.Collection = static c => c.MaxSubscribers = 2);
        var first = await server.OpenStreamAsync();
        using var second = await server.OpenStreamAsync();
        await WaitUntilAsync(() => server.Live.SubscriberCount == 2);

        using (var refused = await server.Client.SendAsync(StreamRequest(), HttpCompletionOption.ResponseHeadersRead))
        {
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "subscriber-limit");
            Assert.InRange(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        }

        first.Dispose();
        await WaitUntilAsync(() => server.Live.SubscriberCount == 1);
        using var admitted = await server.OpenStreamAsync();
        Assert.Equal("text/event-stream", admitted.Content.Headers.ContentType?.MediaType);
    }

    private static HttpRequestMessage StreamRequest()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "messages");
        request.Headers.Accept.ParseAdd("text/event-stream");
        return request;
    }

    [Fact]
    public async Task Stream_ClientStopsReading_WriteTimeoutDropsIt_EvenWithQueueRoomLeft()
    {
        // Queue limits far above what is published: only the write timeout can end the stalled subscriber.
        await using var server = await RocketServer.StartAsync(static o =>
        {
            o.Collection = static c =>
            {
                c.SubscriberQueueMaxEvents = 100_000;
                c.SubscriberQueueMaxBytes = 1L << 30;
            };
            o.SseTransport = static t => t.WriteTimeout = TimeSpan.FromSeconds(1);
        });
        using var stalledClient = server.CreateClient(HttpVersion.Version11);
        using var stalledResponse = await server.OpenStreamAsync(client: stalledClient);
        using var stalled = new SseReader(await stalledResponse.Content.ReadAsStreamAsync());
        await stalled.ReadEventAsync();
        await WaitUntilAsync(() => server.Live.SubscriberCount == 1);

        // More than the socket buffers on both sides hold, and then nothing: the flush waits for a reader that never reads.
        var value = Encoding.UTF8.GetBytes("{\"text\":\"" + new string('x', 256 * 1024) + "\"}");
        for (var i = 0; i < 64; i++)
        {
            server.Live.Create("r" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), value);
        }

        await WaitUntilAsync(() => server.Live.SubscriberCount == 0, timeoutSeconds: 30);
        Assert.DoesNotContain(server.Logs.Entries, static e => e.EventId.Name == "SlowConsumer");
    }

    [Fact]
    public async Task Stream_SlowConsumer_OthersGetEverythingStalledOneClosed()
    {
        await using var server = await RocketServer.StartAsync(static o => o.Collection = static c =>
        {
            c.SubscriberQueueMaxEvents = 8;
            c.SubscriberQueueMaxBytes = 1024 * 1024;
        });
        using var healthyClient = server.CreateClient(HttpVersion.Version11);
        using var stalledClient = server.CreateClient(HttpVersion.Version11);
        using var healthyResponse = await server.OpenStreamAsync(client: healthyClient);
        using var healthy = new SseReader(await healthyResponse.Content.ReadAsStreamAsync());
        using var stalledResponse = await server.OpenStreamAsync(client: stalledClient);
        using var stalled = new SseReader(await stalledResponse.Content.ReadAsStreamAsync());
        await healthy.ReadEventAsync();
        await stalled.ReadEventAsync();
        await WaitUntilAsync(() => server.Live.SubscriberCount == 2);

        // The stalled client reads nothing more while large records are published. The healthy one keeps up, one event
        // at a time, so its own small queue never fills; the stalled one's socket buffers fill, then its queue does.
        var value = "{\"text\":\"" + new string('x', 64 * 1024) + "\"}";
        var live = server.Live;
        var published = new List<string>();
        var lastSequence = 0L;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        async Task PublishAndReceiveAsync()
        {
            var id = "r" + published.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            live.Create(id, Encoding.UTF8.GetBytes(value));
            published.Add(id);
            var frame = await healthy.ReadEventAsync();
            Assert.StartsWith($"event: patch\nid: {live.Epoch:x8}.", frame, StringComparison.Ordinal);
            Assert.Contains($"\"path\":\"/messages/{id}\"", frame, StringComparison.Ordinal);
            var sequence = SseReader.SequenceOf(SseReader.IdOf(frame));
            Assert.True(sequence > lastSequence);
            lastSequence = sequence;
        }

        while (live.SubscriberCount == 2)
        {
            Assert.False(deadline.IsCancellationRequested, $"the stalled subscriber was never closed after {published.Count} events");
            await PublishAndReceiveAsync();
        }

        // And the healthy one goes on receiving everything after the other was dropped.
        for (var i = 0; i < 3; i++)
        {
            await PublishAndReceiveAsync();
        }

        Assert.Equal(1, live.SubscriberCount);
        Assert.Equal(published.Count, lastSequence);
        Assert.Contains(server.Logs.Entries, static e => e.EventId.Name == "SlowConsumer" && e.Level == LogLevel.Information);

        // Read what the stalled client was sent. Its stream ends: after an `event: close` frame when that could be
        // written, else abruptly. (On Kestrel it is abrupt: the subscription cancels the write it is blocked in, and
        // Kestrel aborts a connection whose response flush is canceled.) Either way its events are a gap-free prefix.
        var (rest, _) = await stalled.ReadToEndOrResetAsync(TimeSpan.FromSeconds(30));
        var closeAt = rest.IndexOf("event: close\n", StringComparison.Ordinal);
        if (closeAt >= 0)
        {
            Assert.Equal("event: close\ndata: {\"status\":\"SlowConsumer\",\"reason\":", rest.Substring(closeAt, 56));
            Assert.EndsWith("\"}\n\n", rest, StringComparison.Ordinal);
        }

        var ids = rest.Split("\n\n").Where(static f => f.StartsWith("event: patch\nid: ", StringComparison.Ordinal) && f.Contains("}]", StringComparison.Ordinal)).Select(SseReader.IdOf).ToList();
        Assert.True(ids.Count < published.Count, $"the stalled client got {ids.Count} of {published.Count} events");
        Assert.Equal(Enumerable.Range(1, ids.Count).Select(static i => (long)i), ids.Select(SseReader.SequenceOf));

        // The healthy subscriber is still live.
        var after = await server.PostAsync("""{"text":"after"}""");
        Assert.Contains($"\"path\":\"/messages/{after}\"", await healthy.ReadEventAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_ClientDisconnects_SubscriberCountBackToZero()
    {
        // No heartbeat within the test's time: the client's going must be noticed from the connection itself (on HTTP/1.1
        // the connection's closed token), not from a failed write.
        await using var server = await RocketServer.StartAsync(static o => o.Collection = static c => c.HeartbeatInterval = TimeSpan.FromHours(1));
        var response = await server.OpenStreamAsync();
        var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        await reader.ReadEventAsync();
        Assert.Equal(1, server.Live.SubscriberCount);

        reader.Dispose();
        response.Dispose();

        await WaitUntilAsync(() => server.Live.SubscriberCount == 0);
        // The collection goes on working for everyone else.
        await server.PostAsync("""{"text":"after"}""");
        Assert.DoesNotContain(server.Logs.Entries, static e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Stream_Http2StreamReset_ThatSubscriberEndsOthersOnSameConnectionGoOn()
    {
        // On HTTP/2 one connection carries both streams: the client resetting one is that request's end, not the
        // connection's, so it must be noticed from the request's own token (again with no heartbeat to help).
        await using var server = await RocketServer.StartAsync(static o =>
        {
            o.Http2Only = true;
            o.Collection = static c => c.HeartbeatInterval = TimeSpan.FromHours(1);
        });
        var staying = await server.OpenStreamAsync();
        using var stayingReader = new SseReader(await staying.Content.ReadAsStreamAsync());
        await stayingReader.ReadEventAsync();
        var leaving = await server.OpenStreamAsync();
        var leavingReader = new SseReader(await leaving.Content.ReadAsStreamAsync());
        await leavingReader.ReadEventAsync();
        Assert.Equal(2, server.Live.SubscriberCount);

        leavingReader.Dispose();
        leaving.Dispose();

        await WaitUntilAsync(() => server.Live.SubscriberCount == 1);
        var id = await server.PostAsync("""{"text":"after"}""");
        Assert.Contains($"\"path\":\"/messages/{id}\"", await stayingReader.ReadEventAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpVersion.Version20, staying.Version);
        staying.Dispose();
        Assert.DoesNotContain(server.Logs.Entries, static e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Stream_ServerStops_EventCloseShuttingDownThenStreamEndsCleanlyNoErrorLogged()
    {
        await using var server = await RocketServer.StartAsync();
        using var response = await server.OpenStreamAsync();
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        await reader.ReadEventAsync();
        var rest = reader.ReadToEndAsync(TimeSpan.FromSeconds(20));

        // Far shorter than the host's 30 s default: a stream that did not end on its own would hold the stop until the
        // token fires and then be aborted, which the reader would see as an error rather than a clean end.
        using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await server.App.StopAsync(shutdown.Token);

        Assert.False(shutdown.IsCancellationRequested, "the host did not stop before its deadline");
        // The client is told why, so it reconnects (to the next process) and resumes or resets.
        Assert.StartsWith("event: close\ndata: {\"status\":\"ShuttingDown\",\"reason\":", await rest, StringComparison.Ordinal);
        Assert.True(reader.Ended);
        Assert.Equal(0, server.Live.SubscriberCount);
        Assert.Empty(server.Logs.AtLeast(LogLevel.Error));
    }

    [Fact]
    public async Task Stream_Http2PriorKnowledge_ResetArrives()
    {
        await using var server = await RocketServer.StartAsync(static o => o.Http2Only = true);
        var id = await server.PostAsync("""{"text":"h2"}""");
        var cursor = server.Live.Cursor.ToString();

        using var response = await server.OpenStreamAsync();
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal(
            Prelude + $"event: patch\nid: {cursor}\ndata: [{{\"op\":\"replace\",\"path\":\"\",\"value\":{{\"messages\":{{\"{id}\":{{\"id\":\"{id}\",\"text\":\"h2\"}}}}}}}}]\n\n",
            await reader.ReadEventAsync());
        var next = await server.PostAsync("""{"text":"live"}""");
        Assert.Contains($"\"path\":\"/messages/{next}\"", await reader.ReadEventAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/event-stream;q=0")]
    [InlineData("application/json")]
    public async Task Get_AcceptNotEventStream_Document(string accept)
    {
        await using var server = await RocketServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "messages");
        request.Headers.TryAddWithoutValidation("Accept", accept + ", application/json;q=0.5");

        using var response = await server.Client.SendAsync(request);

        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(0, server.Live.SubscriberCount);
    }

    [Fact]
    public async Task Get_AcceptEventStreamAmongOthers_Stream()
    {
        await using var server = await RocketServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "messages");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;q=0.9, text/event-stream");

        using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.ToString());
    }

    // After `after`, the stream carries exactly the adds of b and c (no reset, nothing doubled), then live events.
    private static async Task AssertResumedAsync(RocketServer server, SseReader reader, string after, string b, string c)
    {
        var epoch = after[..9];
        var sequence = SseReader.SequenceOf(after);
        Assert.Equal(Prelude, await reader.ReadTextAsync(Prelude.Length));
        var first = await reader.ReadEventAsync();
        var second = await reader.ReadEventAsync();
        Assert.StartsWith($"event: patch\nid: {epoch}{sequence + 1}\ndata: [{{\"op\":\"add\",\"path\":\"/messages/{b}\"", first, StringComparison.Ordinal);
        Assert.StartsWith($"event: patch\nid: {epoch}{sequence + 2}\ndata: [{{\"op\":\"add\",\"path\":\"/messages/{c}\"", second, StringComparison.Ordinal);
        var d = await server.PostAsync("""{"text":"d"}""");
        Assert.StartsWith($"event: patch\nid: {epoch}{sequence + 3}\ndata: [{{\"op\":\"add\",\"path\":\"/messages/{d}\"", await reader.ReadEventAsync(), StringComparison.Ordinal);
    }

    // Waiting for a condition (not for a fixed time): polls until it holds, fails after the deadline.
    private static async Task WaitUntilAsync(Func<bool> condition, int timeoutSeconds = 10)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (!condition())
        {
            Assert.False(deadline.IsCancellationRequested, "the condition did not hold before the deadline");
            await Task.Delay(20, CancellationToken.None);
        }
    }
}
