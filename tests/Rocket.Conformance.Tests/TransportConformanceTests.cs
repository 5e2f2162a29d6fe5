using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using System.Threading.Tasks;
using System.Threading;
using System;
using Rocket.JsonPatch;
using Rocket.Live;
using Rocket.Testing;

namespace Rocket.Conformance.Tests;

/// <summary>
/// The meaning every transport must carry (docs/design.md, decision 9), written once: each transport's test class
/// derives from this one and says how to reach it. Every test runs a real server on 127.0.0.1:0 and waits for events
/// with a timeout, never for a fixed time.
/// </summary>
public abstract class TransportConformanceTests
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    protected abstract ITransportUnderTest Transport { get; }

    /// <summary>Set for a two-node deployment on Redis: writes on one node, clients on the other.</summary>
    protected virtual RedisProcess? Redis => null;

    protected Task<ConformanceServer> StartServerAsync(Action<Rocket.Live.LiveCollectionOptions>? configure = null) =>
        ConformanceServer.StartAsync(Transport, configure, Redis);

    [Fact]
    public async Task Stream_NoCursor_StartsWithResetEqualToTheDocumentAndItsCursor()
    {
        await using var server = await StartServerAsync();
        server.Create("a", """{"id":"a","n":1}"""u8);
        server.Create("b/c~d", """{"id":"b/c~d","text":"é <b>"}"""u8);
        var (document, cursor) = await GetKeyedAsync(server);
        using var timeout = new CancellationTokenSource(Timeout);

        await using var client = await Transport.ConnectAsync(server.BaseAddress, "messages", null, timeout.Token);
        var first = await NextPatchAsync(client, timeout.Token);

        Assert.Equal(cursor, first.Cursor);
        var reset = JsonPatchDocument.Parse(first.Patch!);
        Assert.Single(reset);
        Assert.Equal(JsonPatchOperationType.Replace, reset[0].Op);
        Assert.True(reset[0].Path.IsRoot);
        Assert.True(JsonNode.DeepEquals(document, JsonNode.Parse(reset[0].Value.GetRawText())), $"{Transport.Name}: the reset is not the document");
    }

    [Fact]
    public async Task Stream_ResetAndEventLongerThanASlice_ArriveWholeAndExact()
    {
        // Longer than every transport's slice (64 KiB): SSE and WebSocket write them in slices, SignalR sends patchPart
        // messages; quotes, backslashes and multi-byte characters fall on the cuts.
        await using var server = await StartServerAsync();
        var text = string.Concat(Enumerable.Repeat("é \\\"q\\\" € 😀 ", 5_000));
        for (var i = 0; i < 20; i++)
        {
            server.Create($"r{i}", Encoding.UTF8.GetBytes($$"""{"id":"r{{i}}","text":"{{text}}"}"""));
        }

        var (document, cursor) = await GetKeyedAsync(server);
        using var timeout = new CancellationTokenSource(Timeout);

        await using var client = await Transport.ConnectAsync(server.BaseAddress, "messages", null, timeout.Token);
        var reset = await NextPatchAsync(client, timeout.Token);
        var next = server.Create("long", Encoding.UTF8.GetBytes($$"""{"id":"long","text":"{{text}}"}"""));
        var message = await NextPatchAsync(client, timeout.Token);

        Assert.Equal(cursor, reset.Cursor);
        var resetOps = JsonPatchDocument.Parse(reset.Patch!);
        Assert.True(JsonNode.DeepEquals(document, JsonNode.Parse(resetOps[0].Value.GetRawText())), $"{Transport.Name}: the reset is not the document");
        Assert.Equal(next.ToString(), message.Cursor);
        var rebuilt = JsonPatchDocument.Parse(message.Patch!).ApplyTo(document);
        Assert.True(JsonNode.DeepEquals((await GetKeyedAsync(server)).Document, rebuilt), $"{Transport.Name}: the long event did not rebuild the document");
    }

    [Fact]
    public async Task Stream_FromTheDocumentsCursor_GetsExactlyTheLaterChanges()
    {
        await using var server = await StartServerAsync();
        server.Create("a", """{"id":"a"}"""u8);
        var (document, cursor) = await GetKeyedAsync(server);
        using var timeout = new CancellationTokenSource(Timeout);

        await using var client = await Transport.ConnectAsync(server.BaseAddress, "messages", cursor, timeout.Token);
        var next = server.Create("b", """{"id":"b"}"""u8);
        var message = await NextPatchAsync(client, timeout.Token);

        Assert.Equal(next.ToString(), message.Cursor);
        Assert.Equal("""[{"op":"add","path":"/messages/b","value":{"id":"b"}}]""", message.Patch);
        var rebuilt = JsonPatchDocument.Parse(message.Patch!).ApplyTo(document);
        Assert.True(JsonNode.DeepEquals((await GetKeyedAsync(server)).Document, rebuilt));
    }

    [Fact]
    public async Task Stream_ResumedFromACursor_GetsExactlyWhatAnUninterruptedStreamGot()
    {
        await using var server = await StartServerAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        await using var uninterrupted = await Transport.ConnectAsync(server.BaseAddress, "messages", null, timeout.Token);
        await NextPatchAsync(uninterrupted, timeout.Token); // the reset

        StreamMessage firstEvent;
        await using (var interrupted = await Transport.ConnectAsync(server.BaseAddress, "messages", null, timeout.Token))
        {
            await NextPatchAsync(interrupted, timeout.Token); // the reset
            server.Create("1", """{"n":1}"""u8);
            firstEvent = await NextPatchAsync(interrupted, timeout.Token);
        }

        server.Update("1", """{"n":2}"""u8);
        server.Create("2", """{"n":3}"""u8);
        server.Delete("1");

        await using var resumed = await Transport.ConnectAsync(server.BaseAddress, "messages", firstEvent.Cursor, timeout.Token);
        var seen = new List<StreamMessage>();
        for (var i = 0; i < 4; i++)
        {
            seen.Add(await NextPatchAsync(uninterrupted, timeout.Token));
        }

        // Same cursors and bytes: the interrupted stream's first event, then exactly what it missed.
        Assert.Equal(seen[0], firstEvent);
        for (var i = 1; i < seen.Count; i++)
        {
            Assert.Equal(seen[i], await NextPatchAsync(resumed, timeout.Token));
        }
    }

    [Theory]
    [InlineData("00000001.1")]
    [InlineData("ffffffff.99999")]
    [InlineData("garbage")]
    [InlineData("1.2.3")]
    public async Task Stream_CursorFromAnotherEpochOrGarbage_StartsWithAReset(string cursor)
    {
        await using var server = await StartServerAsync();
        server.Create("a", """{"id":"a"}"""u8);
        using var timeout = new CancellationTokenSource(Timeout);

        await using var client = await Transport.ConnectAsync(server.BaseAddress, "messages", cursor, timeout.Token);
        var first = await NextPatchAsync(client, timeout.Token);

        Assert.Equal(server.Collection.Cursor.ToString(), first.Cursor);
        Assert.StartsWith("""[{"op":"replace","path":"","value":""", first.Patch, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_ManyChanges_ArriveInOrderAndRebuildTheDocument()
    {
        await using var server = await StartServerAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        await using var client = await Transport.ConnectAsync(server.BaseAddress, "messages", null, timeout.Token);
        var reset = await NextPatchAsync(client, timeout.Token);
        JsonNode? copy = JsonPatchDocument.Parse(reset.Patch!).ApplyTo(null);

        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var id = random.Next(20).ToString(CultureInfo.InvariantCulture);
            var json = Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","n":{{i}}}""");
            if (!server.Collection.TryGet(id, out _))
            {
                server.Create(id, json);
            }
            else if (random.Next(3) == 0)
            {
                server.Delete(id);
            }
            else
            {
                server.Update(id, json);
            }
        }

        var last = Cursor(reset.Cursor!);
        var final = server.Collection.Cursor;
        while (last != final)
        {
            var message = await NextPatchAsync(client, timeout.Token);
            var cursor = Cursor(message.Cursor!);
            Assert.Equal(last.Epoch, cursor.Epoch);
            Assert.Equal(last.Sequence + 1, cursor.Sequence); // strictly increasing, no gap, no duplicate
            copy = JsonPatchDocument.Parse(message.Patch!).ApplyTo(copy);
            last = cursor;
        }

        Assert.True(JsonNode.DeepEquals((await GetKeyedAsync(server)).Document, copy));
    }

    [Fact]
    public async Task Server_Shutdown_EndsTheStream()
    {
        var server = await StartServerAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        await using var client = await Transport.ConnectAsync(server.BaseAddress, "messages", null, timeout.Token);
        await NextPatchAsync(client, timeout.Token);

        var stopping = server.DisposeAsync().AsTask();
        StreamMessage message;
        do
        {
            message = await client.ReadAsync(timeout.Token);
        }
        while (message.Kind is StreamMessageKind.Heartbeat);

        Assert.True(message.Kind is StreamMessageKind.End or StreamMessageKind.Close, $"{Transport.Name}: got {message} after shutdown");
        await stopping.WaitAsync(timeout.Token);
    }

    protected static async Task<StreamMessage> NextPatchAsync(IStreamClient client, CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await client.ReadAsync(cancellationToken);
            switch (message.Kind)
            {
                case StreamMessageKind.Patch:
                    return message;
                case StreamMessageKind.Heartbeat:
                    continue;
                default:
                    throw new InvalidOperationException($"The stream ended while a patch was expected: {message}");
            }
        }
    }

    protected static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        // Polls a condition the server exposes (not an event on the wire), with the test's timeout.
        while (!condition())
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    protected static async Task<(JsonNode? Document, string Cursor)> GetKeyedAsync(ConformanceServer server)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync("/messages?form=keyed");
        response.EnsureSuccessStatusCode();
        var cursor = response.Headers.GetValues("Last-Event-ID").Single();
        return (JsonNode.Parse(await response.Content.ReadAsStringAsync()), cursor);
    }

    private static Cursor Cursor(string text) =>
        Live.Cursor.TryParse(text, out var cursor) ? cursor : throw new InvalidOperationException($"'{text}' is not a cursor.");
}
