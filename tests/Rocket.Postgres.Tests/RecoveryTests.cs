using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.Postgres.Tests;

/// <summary>App restarts, a dropped slot, and the boundary between the initial state and the stream under concurrent writes.</summary>
public sealed class RecoveryTests : IAsyncLifetime
{
    private PostgresProcess _postgres = null!;

    public async Task InitializeAsync() => _postgres = await PostgresProcess.StartAsync();

    public async Task DisposeAsync() => await _postgres.DisposeAsync();

    private async Task<string> NewTableAsync()
    {
        var table = "t" + Guid.NewGuid().ToString("N")[..10];
        await _postgres.ExecuteAsync($"CREATE TABLE {table} (id text primary key, title text, done boolean)");
        return table;
    }

    private static Cursor Parse(string text) => Cursor.TryParse(text, out var cursor) ? cursor : throw new FormatException(text);

    [Fact]
    public async Task AppRestart_ResumesFromTheSlot_TheCursorContinues()
    {
        var table = await NewTableAsync();
        string cursor;
        await using (var first = await PostgresNode.StartAsync(_postgres, table))
        {
            await using var sse = await first.OpenSseAsync();
            await sse.NextPatchAsync();
            await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('a', 'one', false)");
            await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('b', 'two', false)");
            await sse.NextPatchAsync();
            cursor = (await sse.NextPatchAsync()).Id;
        }

        // Same slot: the same epoch, the same sequence, so a client resumes with nothing to replay and no reset.
        await using (var second = await PostgresNode.StartAsync(_postgres, table))
        {
            var (body, loaded) = await second.GetKeyedAsync();
            Assert.Equal(cursor, loaded);
            Assert.Equal("""{"todos":{"a":{"id":"a","title":"one","done":false},"b":{"id":"b","title":"two","done":false}}}""", body);
            await using var resumed = await second.OpenSseAsync(cursor);
            await _postgres.ExecuteAsync($"UPDATE {table} SET done = true WHERE id = 'a'");
            var next = await resumed.NextPatchAsync();
            Assert.Equal("""[{"op":"replace","path":"/todos/a","value":{"id":"a","title":"one","done":true}}]""", next.Patch);
            Assert.Equal(new Cursor(Parse(cursor).Epoch, Parse(cursor).Sequence + 1), Parse(next.Id));
            cursor = next.Id;
        }

        // Changes made while no app runs are counted on: two transactions, two sequences, in the state at once.
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('c', 'three', false)");
        await _postgres.ExecuteAsync($"DELETE FROM {table} WHERE id = 'b'");
        await using (var third = await PostgresNode.StartAsync(_postgres, table))
        {
            var (body, loaded) = await third.GetKeyedAsync();
            Assert.Equal(new Cursor(Parse(cursor).Epoch, Parse(cursor).Sequence + 2), Parse(loaded));
            Assert.Equal("""{"todos":{"a":{"id":"a","title":"one","done":true},"c":{"id":"c","title":"three","done":false}}}""", body);
        }
    }

    [Fact]
    public async Task SlotDropped_IsANewEpoch_ClientsReset()
    {
        var table = await NewTableAsync();
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('a', 'one', false)");
        await using var node = await PostgresNode.StartAsync(_postgres, table);
        var (_, before) = await node.GetKeyedAsync();
        await using var sse = await node.OpenSseAsync();
        await sse.NextPatchAsync();

        // An operator drops the slot: the walsender using it must be ended first (the app reconnects at once, so try
        // until the drop wins the race).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await _postgres.ExecuteAsync($"SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name LIKE 'rocket_{table}%' AND active_pid IS NOT NULL; SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'rocket_{table}%';");
                break;
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == "55006" && DateTime.UtcNow < deadline)
            {
                // "replication slot is active": the app reconnected in between.
            }
        }

        // The stream is told to reconnect; its old cursor is of another epoch now, so it gets a reset.
        var close = await sse.NextAsync();
        Assert.True(close is null || close.Value.Type == "close", $"expected the stream to end, got {close}");
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('b', 'two', false)");
        var deadline2 = DateTime.UtcNow.AddSeconds(20);
        while (!node.Live.TryGet("b", out _) && DateTime.UtcNow < deadline2)
        {
            await Task.Delay(20);
        }

        var (body, after) = await node.GetKeyedAsync();
        Assert.NotEqual(Parse(before).Epoch, Parse(after).Epoch);
        Assert.Equal("""{"todos":{"a":{"id":"a","title":"one","done":false},"b":{"id":"b","title":"two","done":false}}}""", body);
        await node.AssertResetAsync(before, after);
    }

    [Fact]
    public async Task SlotFurtherBehindThanMaxSlotLag_IsDroppedForANewSlot_ClientsReset()
    {
        var table = await NewTableAsync();
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('a', 'one', false)");
        string before, slot;
        await using (var first = await PostgresNode.StartAsync(_postgres, table, o => o.MaxSlotLag = 1 << 20))
        {
            (_, before) = await first.GetKeyedAsync();
            slot = first.Source.SlotName!;
        }

        // While no app reads the slot, 4 MB of WAL pass (other work on the server), past the 1 MB bound.
        await _postgres.ExecuteAsync($"CREATE TABLE {table}_filler (n int, t text); INSERT INTO {table}_filler SELECT g, repeat('x', 1000) FROM generate_series(1, 4000) g");
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('b', 'two', false)");
        await using var second = await PostgresNode.StartAsync(_postgres, table, o => o.MaxSlotLag = 1 << 20);
        var (body, after) = await second.GetKeyedAsync();
        Assert.NotEqual(Parse(before).Epoch, Parse(after).Epoch);
        Assert.Equal("""{"todos":{"a":{"id":"a","title":"one","done":false},"b":{"id":"b","title":"two","done":false}}}""", body);
        Assert.Equal(0L, await _postgres.ScalarAsync<long>($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{slot}'"));
        Assert.NotEqual(slot, second.Source.SlotName);
        await second.AssertResetAsync(before, after);
    }

    [Fact]
    public async Task SlotInvalidatedWhileTheAppWasDown_IsReplacedByANewSlot_ClientsReset()
    {
        var table = await NewTableAsync();
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('a', 'one', false)");
        string before;
        await using (var first = await PostgresNode.StartAsync(_postgres, table))
        {
            (_, before) = await first.GetKeyedAsync();
        }

        // While no app reads the slot, the server may keep only 1 MB of WAL for it: past that, a checkpoint invalidates it.
        await _postgres.ExecuteAsync("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'");
        await _postgres.ExecuteAsync("SELECT pg_reload_conf()");
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await _postgres.ScalarAsync<string>($"SELECT coalesce(max(wal_status), 'none') FROM pg_replication_slots WHERE slot_name LIKE 'rocket_{table}%'") != "lost")
            {
                Assert.True(DateTime.UtcNow < deadline, "the slot was not invalidated");
                await _postgres.ExecuteAsync($"INSERT INTO {table} SELECT 'x' || g, repeat('w', 1000), false FROM generate_series(1, 2000) g ON CONFLICT (id) DO UPDATE SET done = NOT {table}.done");
                await _postgres.ExecuteAsync("SELECT pg_switch_wal()");
                await _postgres.ExecuteAsync("CHECKPOINT");
            }
        }
        finally
        {
            await _postgres.ExecuteAsync("ALTER SYSTEM RESET max_slot_wal_keep_size");
            await _postgres.ExecuteAsync("SELECT pg_reload_conf()");
        }

        await using var second = await PostgresNode.StartAsync(_postgres, table);
        var (body, after) = await second.GetKeyedAsync();
        Assert.NotEqual(Parse(before).Epoch, Parse(after).Epoch);
        Assert.Equal(2001, JsonNode.Parse(body)!["todos"]!.AsObject().Count);
        Assert.Equal(1L, await _postgres.ScalarAsync<long>($"SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'rocket_{table}%'"));
        await second.AssertResetAsync(before, after);
    }

    [Fact]
    public async Task SnapshotStreamBoundary_UnderConcurrentWrites_NoGapNoDuplicate()
    {
        var table = await NewTableAsync();
        using var stop = new CancellationTokenSource();
        var writes = 0;
        async Task WriteAsync()
        {
            // Inserts, updates and deletes in separate transactions, as fast as one connection goes.
            await using var connection = await _postgres.OpenAsync();
            var random = new Random(7);
            while (!stop.IsCancellationRequested)
            {
                var id = random.Next(40).ToString(System.Globalization.CultureInfo.InvariantCulture);
                var sql = (writes % 3) switch
                {
                    0 => $"INSERT INTO {table} VALUES ('{id}', 'v{writes}', false) ON CONFLICT (id) DO UPDATE SET title = excluded.title",
                    1 => $"UPDATE {table} SET done = NOT coalesce(done, false), title = 'u{writes}' WHERE id = '{id}'",
                    _ => $"DELETE FROM {table} WHERE id = '{id}'",
                };
                await using var command = new Npgsql.NpgsqlCommand(sql, connection);
                await command.ExecuteNonQueryAsync();
                writes++;
            }
        }

        var writer = Task.Run(WriteAsync);
        await WaitUntilAsync(() => writes > 50);

        // The app starts (slot created, rows read in its snapshot) while rows change; a client follows from its reset.
        var first = await PostgresNode.StartAsync(_postgres, table);
        var copy = await FollowAsync(first);
        await WaitUntilAsync(() => copy.Events > 20);

        // The app restarts while rows keep changing: it loads from the existing slot (snapshot now, replay to a marker).
        await first.DisposeAsync();
        await copy.StopAsync();
        await WaitUntilAsync(() => writes > 400);
        await using var second = await PostgresNode.StartAsync(_postgres, table);
        var copy2 = await FollowAsync(second);
        await WaitUntilAsync(() => copy2.Events > 20);
        await stop.CancelAsync();
        await writer;

        // Quiet now: the table, a fresh GET and each client's copy (built only from patches) agree.
        var rows = await ReadTableAsync(table);
        await WaitUntilAsync(() => Keyed(second.Live.GetSnapshot()) == rows);
        var (body, cursor) = await second.GetKeyedAsync();
        Assert.Equal(rows, Canonical(JsonNode.Parse(body)!));
        await WaitUntilAsync(() => copy2.Cursor == cursor);
        Assert.Equal(rows, Canonical(copy2.Document!));
        await copy2.StopAsync();
        Assert.Null(copy.Error);
        Assert.Null(copy2.Error);
    }

    private sealed class Follower
    {
        public JsonNode? Document { get; set; }

        public string? Cursor { get; set; }

        public int Events { get; set; }

        public string? Error { get; set; }

        public Func<Task> StopAsync { get; set; } = () => Task.CompletedTask;
    }

    // Applies every patch of an SSE stream to a document, checking that cursors are consecutive (no gap, no duplicate).
    private static async Task<Follower> FollowAsync(PostgresNode node)
    {
        var follower = new Follower();
        var sse = await node.OpenSseAsync();
        using var started = new SemaphoreSlim(0);
        var run = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var item = await sse.NextAsync(TimeSpan.FromMinutes(5));
                    if (item is not { Type: "patch" } patch)
                    {
                        return;
                    }

                    var cursor = Parse(patch.Id!);
                    if (follower.Cursor is { } previous && !patch.Data.StartsWith("""[{"op":"replace","path":"",""", StringComparison.Ordinal))
                    {
                        var last = Parse(previous);
                        if (cursor.Epoch != last.Epoch || cursor.Sequence != last.Sequence + 1)
                        {
                            follower.Error = $"cursor {patch.Id} after {previous}";
                        }
                    }

                    follower.Document = JsonPatchDocument.Parse(Encoding.UTF8.GetBytes(patch.Data)).ApplyTo(follower.Document?.DeepClone());
                    follower.Cursor = patch.Id;
                    follower.Events++;
                    if (follower.Events == 1)
                    {
                        started.Release();
                    }
                }
            }
            catch (Exception e) when (e is System.IO.IOException or ObjectDisposedException or OperationCanceledException or HttpRequestException)
            {
                // The test stopped the stream.
            }
        });
        await started.WaitAsync(TimeSpan.FromSeconds(20));
        follower.StopAsync = async () =>
        {
            await sse.DisposeAsync();
            await run;
        };
        return follower;
    }

    private async Task<string> ReadTableAsync(string table)
    {
        var document = new JsonObject();
        await using var connection = await _postgres.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"SELECT id, title, done FROM {table}", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            document[reader.GetString(0)] = new JsonObject
            {
                ["id"] = reader.GetString(0),
                ["title"] = reader.IsDBNull(1) ? null : reader.GetString(1),
                ["done"] = reader.IsDBNull(2) ? null : reader.GetBoolean(2),
            };
        }

        return Canonical(new JsonObject { ["todos"] = document });
    }

    private static string Keyed(Snapshot snapshot)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        snapshot.WriteKeyed(buffer);
        return Canonical(JsonNode.Parse(buffer.WrittenSpan)!);
    }

    // Members sorted, so two documents with the same records compare equal whatever their order.
    private static string Canonical(JsonNode node) => Sort(node)?.ToJsonString() ?? "null";

    private static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sort(p.Value)))),
        _ => node?.DeepClone(),
    };

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(20);
        }
    }
}
