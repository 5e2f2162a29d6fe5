using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using System.Threading.Tasks;
using System;
using Rocket.Live;
using Rocket.Testing;
using StackExchange.Redis;

namespace Rocket.Redis.Tests;

/// <summary>
/// Several nodes on one real Redis behave as one server: a write on any node reaches every node's subscribers with the
/// same cursor, GET agrees everywhere, a cursor resumes on any node, and concurrent writers converge with no gap.
/// </summary>
public sealed class ScaleOutTests : IAsyncLifetime
{
    private RedisProcess _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisProcess.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private static string Prefix() => "t" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task FamilyInstance_OnANodeOnRedis_LivesInThatNodesMemory_WritesAndStreams()
    {
        await using var node = await RedisNode.StartAsync(_redis, "family");
        using var created = await node.Client.PostAsync("rooms/lobby/messages", new StringContent("""{"text":"hi"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await node.Client.GetStringAsync("rooms/lobby/messages");
        Assert.Contains("\"text\":\"hi\"", body, StringComparison.Ordinal);

        // Not in Redis: the registered collection's keys are there, no key of the room.
        await using var admin = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration + ",allowAdmin=true");
        var keys = admin.GetServers().Single().Keys(pattern: "*").Select(static k => k.ToString()).ToArray();
        Assert.DoesNotContain(keys, static k => k.Contains("rooms", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WriteOnA_StreamOnBReceivesIt_GetOnCShowsItWithTheSameCursor()
    {
        var prefix = Prefix();
        await using var a = await RedisNode.StartAsync(_redis, prefix);
        await using var b = await RedisNode.StartAsync(_redis, prefix);
        await using var c = await RedisNode.StartAsync(_redis, prefix);
        using var stream = await b.OpenStreamAsync();
        var reset = await stream.NextPatchAsync();
        Assert.Equal("""[{"op":"replace","path":"","value":{"messages":{}}}]""", reset.Patch);

        using var post = await a.Client.PostAsync("messages", new StringContent("""{"text":"hi"}""", Encoding.UTF8, "application/json"));
        var id = JsonElement.Parse(await post.Content.ReadAsStringAsync()).GetProperty("id").GetString()!;

        var added = await stream.NextPatchAsync();
        Assert.Equal(added.Id, post.Headers.GetValues("Last-Event-ID").Single());
        Assert.Equal($$$"""[{"op":"add","path":"/messages/{{{id}}}","value":{"id":"{{{id}}}","text":"hi"}}]""", added.Patch);
        var (body, cursor) = await c.GetKeyedAsync();
        Assert.Equal(added.Id, cursor);
        Assert.Equal($$$$"""{"messages":{"{{{{id}}}}":{"id":"{{{{id}}}}","text":"hi"}}}""", body);

        // The record itself, and a delete, from yet another node than the one that created it.
        using var get = await c.Client.GetAsync($"messages/{id}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        using var delete = await b.Client.DeleteAsync($"messages/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal($$"""[{"op":"remove","path":"/messages/{{id}}"}]""", (await stream.NextPatchAsync()).Patch);
    }

    [Fact]
    public async Task CursorFromA_ResumedOnB_ExactlyTheEventsAfterIt()
    {
        var prefix = Prefix();
        await using var a = await RedisNode.StartAsync(_redis, prefix);
        await using var b = await RedisNode.StartAsync(_redis, prefix);
        await a.PostAsync("""{"n":1}""");
        var (_, cursor) = await a.GetKeyedAsync();

        var later = new List<string>();
        for (var i = 2; i <= 4; i++)
        {
            later.Add(await a.PostAsync($$"""{"n":{{i}}}"""));
        }

        using var stream = await b.OpenStreamAsync(cursor);
        foreach (var id in later)
        {
            var patch = await stream.NextPatchAsync();
            Assert.Contains($"\"path\":\"/messages/{id}\"", patch.Patch, StringComparison.Ordinal);
            Assert.StartsWith("[{\"op\":\"add\"", patch.Patch, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NodeStartedLater_ResumesACursorFromBeforeItStarted()
    {
        // The history comes with the load, so a node that never saw the events can still replay them.
        var prefix = Prefix();
        await using var a = await RedisNode.StartAsync(_redis, prefix);
        await a.PostAsync("""{"n":1}""");
        var (_, cursor) = await a.GetKeyedAsync();
        var second = await a.PostAsync("""{"n":2}""");

        await using var late = await RedisNode.StartAsync(_redis, prefix);
        using var stream = await late.OpenStreamAsync(cursor);

        var patch = await stream.NextPatchAsync();
        Assert.Contains($"/messages/{second}", patch.Patch, StringComparison.Ordinal);
        Assert.Equal((await a.GetKeyedAsync()).Cursor, patch.Id);
    }

    [Fact]
    public async Task ConcurrentWritersOnEveryNode_AllNodesConvergeWithNoGapNoDuplicate()
    {
        var prefix = Prefix();
        var nodes = new[] { await RedisNode.StartAsync(_redis, prefix), await RedisNode.StartAsync(_redis, prefix), await RedisNode.StartAsync(_redis, prefix) };
        try
        {
            using var stream = await nodes[2].OpenStreamAsync();
            var start = await stream.NextPatchAsync();
            const int PerNode = 40;

            await Task.WhenAll(nodes.Select((node, n) => Task.Run(async () =>
            {
                for (var i = 0; i < PerNode; i++)
                {
                    await node.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Create($"{n}-{i}", $$"""{"n":{{n}},"i":{{i}}}""")));
                }
            })));

            // The stream on node 2 saw every write, each once, in cursor order with no gap.
            var previous = ParseCursor(start.Id);
            var seen = new HashSet<string>();
            for (var k = 0; k < nodes.Length * PerNode; k++)
            {
                var (id, patch) = await stream.NextPatchAsync();
                var cursor = ParseCursor(id);
                Assert.Equal(previous.Sequence + 1, cursor.Sequence);
                Assert.Equal(previous.Epoch, cursor.Epoch);
                previous = cursor;
                Assert.True(seen.Add(JsonNode.Parse(patch)![0]!["path"]!.GetValue<string>()), patch);
            }

            var documents = await Task.WhenAll(nodes.Select(static node => node.GetKeyedAsync()));
            Assert.All(documents, d => Assert.Equal(documents[0], d));
            Assert.Equal(previous.ToString(), documents[0].Cursor);
            Assert.Equal(nodes.Length * PerNode, JsonNode.Parse(documents[0].Body)!["messages"]!.AsObject().Count);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ConditionalPatchesRacingOnTwoNodes_OneWinsPerVersion()
    {
        var prefix = Prefix();
        await using var a = await RedisNode.StartAsync(_redis, prefix);
        await using var b = await RedisNode.StartAsync(_redis, prefix);
        var id = await a.PostAsync("""{"v":0}""");
        await WaitForAsync(() => b.Live.TryGet(id, out _));

        // Each node tests the version it read and sets the next one: of the two racing writes of one version, one wins.
        var outcomes = await Task.WhenAll(new[] { a, b }.SelectMany(node => Enumerable.Range(0, 5).Select(_ => node)).Select(async node =>
        {
            var results = new List<HttpStatusCode>();
            for (var v = 0; v < 10; v++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Patch, $"messages/{id}")
                {
                    Content = new StringContent($$"""[{"op":"test","path":"/v","value":{{v}}},{"op":"replace","path":"/v","value":{{v + 1}}}]""", Encoding.UTF8, "application/json-patch+json"),
                };
                using var response = await node.Client.SendAsync(request);
                results.Add(response.StatusCode);
            }

            return results;
        }));

        var all = outcomes.SelectMany(static o => o).ToList();
        Assert.All(all, static s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.Conflict, s.ToString()));
        Assert.Equal(10, all.Count(static s => s == HttpStatusCode.OK));
        var (body, _) = await a.GetKeyedAsync();
        Assert.Equal(10, JsonNode.Parse(body)!["messages"]![id]!["v"]!.GetValue<int>());
        await WaitForAsync(() => a.Live.Cursor == b.Live.Cursor);
    }

    [Fact]
    public async Task IfMatch_StaleOnAnotherNode_412()
    {
        var prefix = Prefix();
        await using var a = await RedisNode.StartAsync(_redis, prefix);
        await using var b = await RedisNode.StartAsync(_redis, prefix);
        var id = await a.PostAsync("""{"v":0}""");
        using var first = await a.Client.GetAsync($"messages/{id}");
        var etag = first.Headers.ETag!.Tag;
        using (var put = await a.Client.PutAsync($"messages/{id}", new StringContent("""{"v":1}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        await WaitForAsync(() => b.Live.TryGet(id, out var r) && Encoding.UTF8.GetString(r.Span).Contains("\"v\":1", StringComparison.Ordinal));
        using var stale = new HttpRequestMessage(HttpMethod.Delete, $"messages/{id}");
        stale.Headers.TryAddWithoutValidation("If-Match", etag);

        using var response = await b.Client.SendAsync(stale);

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
    }

    [Fact]
    public async Task LocalWriteOnReplica_Refused()
    {
        await using var a = await RedisNode.StartAsync(_redis, Prefix());

        Assert.True(a.Live.IsReplica);
        Assert.Throws<InvalidOperationException>(() => a.Live.Create("x", "{}"u8));
    }

    internal static Cursor ParseCursor(string text)
    {
        Assert.True(Cursor.TryParse(text, out var cursor), text);
        return cursor;
    }

    internal static async Task WaitForAsync(Func<bool> condition, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not come true in time");
            await Task.Delay(10);
        }
    }
}
