using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using System.Threading.Tasks;
using System;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
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
    public async Task FamilyInstance_WriteOnA_StreamOnBReceivesIt_ResumesOnEitherNode()
    {
        const string Room = "rooms/a/messages";
        var prefix = Prefix();
        await using var a = await RedisNode.StartAsync(_redis, prefix);
        await using var b = await RedisNode.StartAsync(_redis, prefix);
        using var stream = await b.OpenStreamAsync(collection: Room);
        var reset = await stream.NextPatchAsync();
        Assert.Equal("""[{"op":"replace","path":"","value":{"messages":{}}}]""", reset.Patch);

        var first = await a.PostAsync("""{"text":"from a"}""", Room);
        var added = await stream.NextPatchAsync();
        Assert.Contains($"\"path\":\"/messages/{first}\"", added.Patch, StringComparison.Ordinal);

        // Written on B, resumed on A from the cursor B's stream saw: exactly the events after it.
        var second = await b.PostAsync("""{"text":"from b"}""", Room);
        var third = await b.PostAsync("""{"text":"from b again"}""", Room);
        using var resumed = await a.OpenStreamAsync(added.Id, Room);
        Assert.Contains($"/messages/{second}", (await resumed.NextPatchAsync()).Patch, StringComparison.Ordinal);
        var last = await resumed.NextPatchAsync();
        Assert.Contains($"/messages/{third}", last.Patch, StringComparison.Ordinal);

        // Both nodes answer GET alike, with the cursor of the last event; the room has its own keys and epoch in Redis.
        var onA = await a.GetKeyedAsync(Room);
        Assert.Equal(onA, await b.GetKeyedAsync(Room));
        Assert.Equal(last.Id, onA.Cursor);
        Assert.NotEqual(a.Live.Epoch.ToString("x8", System.Globalization.CultureInfo.InvariantCulture), last.Id[..8]);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        var ttl = await admin.GetDatabase().KeyTimeToLiveAsync($"{{{prefix}:{Room}}}:meta");
        Assert.True(ttl > TimeSpan.Zero, "a family instance's keys expire (FamilyInstanceTimeToLive)");
        Assert.Null(await admin.GetDatabase().KeyTimeToLiveAsync($"{{{prefix}:{RedisNode.Collection}}}:meta"));
    }

    [Fact]
    public async Task FamilyInstance_FirstUsedOnTwoNodesAtOnce_OneEpoch()
    {
        const string Room = "rooms/race/messages";
        var prefix = Prefix();
        await using var a = await RedisNode.StartAsync(_redis, prefix);
        await using var b = await RedisNode.StartAsync(_redis, prefix);

        // Both nodes create the instance in Redis at the same moment: the load script makes one of them its creator.
        var first = await Task.WhenAll(a.GetKeyedAsync(Room), b.GetKeyedAsync(Room));
        Assert.Equal(first[0].Cursor, first[1].Cursor);

        await a.PostAsync("""{"n":1}""", Room);
        var (_, cursor) = await a.GetKeyedAsync(Room);
        await WaitForAsync(() => b.App.Services.GetRequiredService<CollectionRegistry>().TryGetCollection(Room, out var live) && live.Cursor.ToString() == cursor);
    }

    [Fact]
    public async Task FamilyInstance_EvictedFromANodesMemory_KeptInRedis_ResumesAfterReload()
    {
        const string Room = "rooms/b/messages";
        var prefix = Prefix();
        // Idle instances are evicted from memory at once (swept every 75 ms).
        await using var a = await RedisNode.StartAsync(_redis, prefix, family: o => o.IdleTimeout = TimeSpan.FromMilliseconds(300));
        await a.PostAsync("""{"n":1}""", Room);
        var (_, cursor) = await a.GetKeyedAsync(Room);
        var second = await a.PostAsync("""{"n":2}""", Room);

        var family = a.App.Services.GetRequiredService<CollectionRegistry>().Families.Single();
        await WaitForAsync(() => !family.TryGetInstance(Room, out _));

        // Written meanwhile through another node: the evicted instance on A no longer follows the room's channel.
        await using var b = await RedisNode.StartAsync(_redis, prefix);
        var third = await b.PostAsync("""{"n":3}""", Room);

        // Loaded again from Redis on its next use: same records, same epoch, and the old cursor still resumes.
        using var stream = await a.OpenStreamAsync(cursor, Room);
        var patch = await stream.NextPatchAsync();
        Assert.Contains($"/messages/{second}", patch.Patch, StringComparison.Ordinal);
        Assert.Contains($"/messages/{third}", (await stream.NextPatchAsync()).Patch, StringComparison.Ordinal);
        Assert.Contains("\"n\":1", (await a.GetKeyedAsync(Room)).Body, StringComparison.Ordinal);
        Assert.Equal(string.Empty, a.Logs.ToString());
    }

    [Fact]
    public async Task CursorOlderThanTheHistoryButInTheLog_ResumedOnAnotherNode_ExactlyTheEventsAfterIt()
    {
        // A node keeps 3 events in memory; the Redis log keeps 10,000, so older cursors are replayed from Redis in pages.
        var prefix = Prefix();
        await using var a = await RedisNode.StartAsync(_redis, prefix, o => o.HistoryMaxEvents = 3);
        await using var b = await RedisNode.StartAsync(_redis, prefix, o => o.HistoryMaxEvents = 3);
        await a.PostAsync("""{"n":0}""");
        var (_, cursor) = await a.GetKeyedAsync();
        const int Later = 700;
        for (var i = 1; i <= Later; i++)
        {
            await a.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Create($"r{i}", $$"""{"n":{{i}}}""")));
        }

        await WaitForAsync(() => b.Live.Cursor == a.Live.Cursor);
        Assert.Equal(3, b.Live.HistoryCount);
        using var stream = await b.OpenStreamAsync(cursor);

        // Every event after the cursor once, in order (more than one page), then the live ones with no gap.
        var previous = ParseCursor(cursor);
        for (var i = 1; i <= Later; i++)
        {
            var (id, patch) = await stream.NextPatchAsync();
            var at = ParseCursor(id);
            Assert.Equal(previous.Epoch, at.Epoch);
            Assert.Equal(previous.Sequence + 1, at.Sequence);
            Assert.Contains($"/messages/r{i}\"", patch, StringComparison.Ordinal);
            previous = at;

            if (i == 10)
            {
                // A write while the replay is under way comes after it, once.
                await a.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Create("live", """{"n":-1}""")));
            }
        }

        var live = await stream.NextPatchAsync();
        Assert.Equal(previous.Sequence + 1, ParseCursor(live.Id).Sequence);
        Assert.Contains("/messages/live\"", live.Patch, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CursorOlderThanTheLog_GetsAReset()
    {
        var prefix = Prefix();
        await using var a = await RedisNode.StartAsync(_redis, prefix, o => o.HistoryMaxEvents = 2, o => o.LogMaxEvents = 5);
        await a.PostAsync("""{"n":0}""");
        var (_, cursor) = await a.GetKeyedAsync();
        for (var i = 1; i <= 8; i++)
        {
            await a.PostAsync($$"""{"n":{{i}}}""");
        }

        using var stream = await a.OpenStreamAsync(cursor);
        var reset = await stream.NextPatchAsync();
        Assert.StartsWith("""[{"op":"replace","path":"","value":""", reset.Patch, StringComparison.Ordinal);
        Assert.Equal((await a.GetKeyedAsync()).Cursor, reset.Id);
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

    [Fact]
    public async Task CollectionWithItsOwnStore_WithRedis_HostRefusesToStartNamingIt()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddRocket()
            .AddCollection<UnusedStore>("todos")
            .AddRedis(o => o.Configuration = _redis.Configuration);
        await using var app = builder.Build();

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.Contains("'todos' has its own store", refused.Message, StringComparison.Ordinal);
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

/// <summary>A collection store for the startup check: it is never read or written.</summary>
internal sealed class UnusedStore : Rocket.AspNetCore.ICollectionStore
{
    public async IAsyncEnumerable<KeyValuePair<string, ReadOnlyMemory<byte>>> ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] System.Threading.CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask;
        yield break;
    }

    public ValueTask<Rocket.AspNetCore.StoreWrite> WriteAsync(RecordChange change, System.Threading.CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The startup check refuses the host before any write.");
}
