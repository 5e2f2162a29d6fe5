using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Live;
using Rocket.Testing;
using StackExchange.Redis;

namespace Rocket.Postgres.Tests;

/// <summary>A table-backed collection on several nodes sharing one Redis: one node feeds, the others follow, handovers lose and double nothing.</summary>
public sealed class ScaleOutTests : IAsyncLifetime
{
    private PostgresProcess _postgres = null!;
    private RedisProcess _redis = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresProcess.StartAsync();
        _redis = await RedisProcess.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    // One row per transaction, as psql would: r0001, r0002, ... up to `rows`.
    private async Task InsertRowsAsync(string table, int rows)
    {
        await using var connection = await _postgres.OpenAsync();
        for (var i = 1; i <= rows; i++)
        {
            await using var command = new Npgsql.NpgsqlCommand($"INSERT INTO {table} VALUES ('r{i:D4}', 'row {i}', false)", connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    private async Task<string> NewTableAsync()
    {
        var table = "t" + Guid.NewGuid().ToString("N")[..10];
        await _postgres.ExecuteAsync($"CREATE TABLE {table} (id text primary key, title text, done boolean)");
        return table;
    }

    private static Cursor Parse(string text) => Cursor.TryParse(text, out var cursor) ? cursor : throw new FormatException(text);

    private Task<PostgresNode> StartNodeAsync(string table) => PostgresNode.StartAsync(_postgres, table, redis: _redis);

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, what);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task TwoNodes_PsqlInsertReachesTheNodeThatDoesNotFeed_RestWritesOnItGoToTheTable()
    {
        var table = await NewTableAsync();
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('a', 'one', false)");
        await using var first = await StartNodeAsync(table);
        await using var second = await StartNodeAsync(table);

        // Exactly one node feeds; the first to start took the lease.
        Assert.True(first.Source.IsFeeding);
        Assert.False(second.Source.IsFeeding);
        var (body, loaded) = await second.GetKeyedAsync();
        Assert.Equal("""{"todos":{"a":{"id":"a","title":"one","done":false}}}""", body);
        Assert.Equal(loaded, (await first.GetKeyedAsync()).Cursor);

        await using var sse = await second.OpenSseAsync();
        await sse.NextPatchAsync();
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('b', 'two', false)");
        var added = await sse.NextPatchAsync();
        Assert.Equal("""[{"op":"add","path":"/todos/b","value":{"id":"b","title":"two","done":false}}]""", added.Patch);
        Assert.Equal(new Cursor(Parse(loaded).Epoch, Parse(loaded).Sequence + 1), Parse(added.Id));

        // A REST write on the node that does not feed: into the table, back through the feeding node and Redis, and
        // answered with its event's cursor once this node holds it.
        using var response = await second.Client.PostAsync(PostgresNode.Collection, new StringContent("""{"title":"three","done":true}""", Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST answered {response.StatusCode}: {await response.Content.ReadAsStringAsync()} {second.Logs}");
        var written = response.Headers.GetValues("Last-Event-ID").Single();
        var id = JsonElement.Parse(await response.Content.ReadAsStringAsync()).GetProperty("id").GetString()!;
        Assert.Equal("three", await _postgres.ScalarAsync<string>($"SELECT title FROM {table} WHERE id = '{id}'"));
        var streamed = await sse.NextPatchAsync();
        Assert.Equal(written, streamed.Id);
        Assert.Equal("""[{"op":"add","path":"/todos/ID","value":{"id":"ID","title":"three","done":true}}]""".Replace("ID", id, StringComparison.Ordinal), streamed.Patch);
        Assert.True(second.Live.TryGet(id, out _), "the answer came before this node's copy held the write");

        // A conditional write that lost the race is refused by the table's row, on this node too.
        using var stale = new HttpRequestMessage(HttpMethod.Put, PostgresNode.Collection + "/b") { Content = new StringContent("""{"title":"late","done":false}""", Encoding.UTF8, "application/json") };
        stale.Headers.TryAddWithoutValidation("If-Match", "\"0000\"");
        using var refused = await second.Client.SendAsync(stale);
        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);

        // The app's own publisher cannot write around the table.
        var publisher = second.App.Services.GetRequiredService<IRocketPublisher>();
        await Assert.ThrowsAsync<InvalidOperationException>(() => publisher.PublishAsync(PostgresNode.Collection, ChangeSet.Create(RecordChange.Create("z", "{\"id\":\"z\"}"u8))).AsTask());
        Assert.False(second.Live.TryGet("z", out _));

        // Both nodes serve the same state under the same cursor.
        await WaitUntilAsync(() => first.Live.Cursor == Parse(written), "the feeding node did not reach the write's cursor");
        Assert.Equal(await second.GetKeyedAsync(), await first.GetKeyedAsync());
    }

    [Fact]
    public async Task FeedingNodeStopsWhileRowsAreWritten_TheOtherTakesOver_ASubscriberSeesEveryRowOnceInOrder()
    {
        var table = await NewTableAsync();
        var first = await StartNodeAsync(table);
        await using var second = await StartNodeAsync(table);
        Assert.True(first.Source.IsFeeding);
        await using var sse = await second.OpenSseAsync();
        var start = Parse((await sse.NextPatchAsync()).Id);

        // A writer commits one row per transaction, as psql would, all through the handover.
        const int Rows = 300;
        var writer = Task.Run(() => InsertRowsAsync(table, Rows));

        var seen = new List<string>();
        var cursors = new List<Cursor>();
        Task? stopping = null;
        while (seen.Count < Rows)
        {
            var (id, patch) = await sse.NextPatchAsync();
            cursors.Add(Parse(id));
            foreach (var op in JsonDocument.Parse(patch).RootElement.EnumerateArray())
            {
                Assert.Equal("add", op.GetProperty("op").GetString());
                seen.Add(op.GetProperty("path").GetString()!["/todos/".Length..]);
            }

            if (stopping is null && seen.Count >= 30)
            {
                // The feeding node goes away mid-stream (its host stopped and disposed).
                stopping = first.DisposeAsync().AsTask();
            }
        }

        await writer;
        await stopping!;
        Assert.True(second.Source.IsFeeding, "the remaining node did not take the feed over");
        Assert.Equal(Enumerable.Range(1, Rows).Select(i => $"r{i:D4}"), seen);
        Assert.All(cursors, c => Assert.Equal(start.Epoch, c.Epoch));
        Assert.Equal(Enumerable.Range(1, cursors.Count).Select(i => start.Sequence + i), cursors.Select(c => c.Sequence));
        Assert.Equal(Rows, await _postgres.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task LeaseTakenFromTheFeedingNodeMidStream_ItIsFencedOut_ASubscriberSeesEveryRowOnceInOrder()
    {
        var table = await NewTableAsync();
        await using var first = await StartNodeAsync(table);
        await using var second = await StartNodeAsync(table);
        Assert.True(first.Source.IsFeeding);
        await using var sse = await second.OpenSseAsync();
        var start = Parse((await sse.NextPatchAsync()).Id);
        const int Rows = 200;
        var writer = Task.Run(() => InsertRowsAsync(table, Rows));

        var seen = new List<string>();
        var cursors = new List<Cursor>();
        var taken = false;
        while (seen.Count < Rows)
        {
            var (id, patch) = await sse.NextPatchAsync();
            cursors.Add(Parse(id));
            seen.AddRange(JsonDocument.Parse(patch).RootElement.EnumerateArray().Select(op => op.GetProperty("path").GetString()!["/todos/".Length..]));
            if (!taken && seen.Count >= 30)
            {
                // The feeding node's lease is overwritten, as if it had expired while the node was paused and another
                // node had taken it: the feeding node is still alive, but its token no longer opens any script.
                taken = true;
                await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
                Assert.True(await redis.GetDatabase().StringSetAsync($"{{{table}:todos}}:lease", "0 intruder", TimeSpan.FromSeconds(2), When.Exists));
            }
        }

        await writer;
        Assert.Equal(Enumerable.Range(1, Rows).Select(i => $"r{i:D4}"), seen);
        Assert.All(cursors, c => Assert.Equal(start.Epoch, c.Epoch));
        Assert.Equal(Enumerable.Range(1, cursors.Count).Select(i => start.Sequence + i), cursors.Select(c => c.Sequence));
        Assert.Contains("stopped feeding", first.Logs.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LeaseOfANodeThatDied_ExpiresAndANodeTakesOverFromTheSlot()
    {
        var table = await NewTableAsync();
        string cursor;
        await using (var first = await StartNodeAsync(table))
        {
            await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('a', 'one', false)");
            await WaitUntilAsync(() => first.Live.TryGet("a", out _), "the row did not arrive");
            cursor = first.Live.Cursor.ToString();
        }

        // A node that died holding the lease: its lease stays in Redis until it expires; rows written meanwhile wait in
        // the slot.
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration))
        {
            Assert.True(await redis.GetDatabase().StringSetAsync($"{{{table}:todos}}:lease", "0 dead-node", TimeSpan.FromSeconds(2), When.NotExists));
        }

        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('b', 'two', false)");
        await using var next = await StartNodeAsync(table);
        await using var sse = await next.OpenSseAsync(cursor);
        var added = await sse.NextPatchAsync();
        Assert.Equal("""[{"op":"add","path":"/todos/b","value":{"id":"b","title":"two","done":false}}]""", added.Patch);
        Assert.Equal(new Cursor(Parse(cursor).Epoch, Parse(cursor).Sequence + 1), Parse(added.Id));
        Assert.True(next.Source.IsFeeding);
    }

    [Fact]
    public async Task RedisFlushed_TheFeedingNodeMakesANewSlot_ClientsResetToTheTable()
    {
        var table = await NewTableAsync();
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('a', 'one', false)");
        await using var first = await StartNodeAsync(table);
        await using var second = await StartNodeAsync(table);
        var before = second.Live.Cursor;
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration + ",allowAdmin=true"))
        {
            await redis.GetServers().Single().FlushAllDatabasesAsync();
        }

        // The next transaction cannot be fed onto a state Redis no longer has: the feeding node starts over from the table.
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('b', 'two', false)");
        await WaitUntilAsync(() => second.Live.TryGet("b", out _) && second.Live.Epoch != before.Epoch, "the nodes did not start over from the table");
        var (body, after) = await second.GetKeyedAsync();
        Assert.Equal("""{"todos":{"a":{"id":"a","title":"one","done":false},"b":{"id":"b","title":"two","done":false}}}""", body);
        await second.AssertResetAsync(before.ToString(), after);
    }

    [Fact]
    public async Task RedisDown_TheSlotFallsPastMaxSlotLag_ItIsDroppedWhileTheAppRuns_ANewEpochOnceRedisIsBack()
    {
        var table = await NewTableAsync();
        await using var node = await PostgresNode.StartAsync(_postgres, table, o => o.MaxSlotLag = 1 << 20, redis: _redis);
        var before = node.Live.Cursor;
        var slot = node.Source.SlotName;

        // The feeding node cannot feed while Redis is away, so the slot is not consumed; 4 MB of WAL pass.
        _redis.Kill();
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('b', 'two', false)");
        await _postgres.ExecuteAsync($"CREATE TABLE {table}_filler (n int, t text); INSERT INTO {table}_filler SELECT g, repeat('x', 1000) FROM generate_series(1, 4000) g");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await _postgres.ScalarAsync<long>($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{slot}'") > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the slot was not dropped: {node.Logs}");
            await Task.Delay(50);
        }

        await _redis.RestartAsync();
        await WaitUntilAsync(() => node.Live.TryGet("b", out _) && node.Live.Epoch != before.Epoch, $"the node did not start over from the table: {node.Logs}");
        Assert.NotEqual(slot, node.Source.SlotName);
    }
}
