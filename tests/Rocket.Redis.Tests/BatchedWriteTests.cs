using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System;
using Rocket.Live;
using Rocket.Testing;
using StackExchange.Redis;

namespace Rocket.Redis.Tests;

/// <summary>
/// Writes made together on a node go to Redis in batches (one script call for the writes queued while the previous one
/// ran): each write still gets its own answer, committed or refused on its own, in the order it was made, and the log's
/// order is the state's.
/// </summary>
public sealed class BatchedWriteTests : IAsyncLifetime
{
    private RedisProcess _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisProcess.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private static string Prefix() => "t" + Guid.NewGuid().ToString("N")[..8];

    private enum Expect
    {
        Committed,
        Exists,
        NotFound,
        Precondition,
    }

    [Fact]
    public async Task ManyConcurrentWritersOnTwoNodes_SomeRefused_EachGetsItsOwnAnswer_LogOrderIsTheState()
    {
        var prefix = Prefix();
        await using var a = await RedisNode.StartAsync(_redis, prefix);
        await using var b = await RedisNode.StartAsync(_redis, prefix);
        await a.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Create("fixed", """{"v":0}""")));
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration + ",allowAdmin=true");
        var database = redis.GetDatabase();
        var scriptCallsBefore = ScriptCalls(redis);

        // Every write is started before any is awaited, on both nodes, so they queue behind each other's script calls.
        const int PerNode = 150;
        var writes = new List<(string Node, int I, Expect Expect, string Id, Task<Cursor> Task)>();
        foreach (var (node, name) in new[] { (a, "a"), (b, "b") })
        {
            for (var i = 0; i < PerNode; i++)
            {
                var id = $"{name}-{i}";
                var (expect, changes) = (i % 5) switch
                {
                    // Committed: a new record, and one set of two changes.
                    0 => (Expect.Committed, ChangeSet.Create(RecordChange.Create(id, $$"""{"n":"{{name}}","i":{{i}}}"""))),
                    1 => (Expect.Committed, ChangeSet.Create(RecordChange.Create(id, """{"x":1}"""), RecordChange.Update(id, $$"""{"x":2,"i":{{i}}}"""))),
                    // Refused whole: the first change would apply, the second does not, so neither is written.
                    2 => (Expect.NotFound, ChangeSet.Create(RecordChange.Create(id, """{"half":1}"""), RecordChange.Update("missing-" + id, """{}"""))),
                    3 => (Expect.Exists, ChangeSet.Create(RecordChange.Create("fixed", """{"v":1}"""))),
                    _ => (Expect.Precondition, ChangeSet.Create(RecordChange.Update("fixed", """{"v":2}""").IfMatch("""{"v":99}"""u8))),
                };
                writes.Add((name, i, expect, id, node.Publisher.PublishAsync(RedisNode.Collection, changes).AsTask()));
            }
        }

        await Task.WhenAll(writes.Select(static w => w.Task.ContinueWith(static _ => { }, TaskScheduler.Default)));

        var committed = new Dictionary<long, (string Id, int I)>();
        uint? epoch = null;
        foreach (var (node, i, expect, id, task) in writes)
        {
            if (expect == Expect.Committed)
            {
                Assert.True(task.IsCompletedSuccessfully, $"{node} write {i}: {task.Exception}");
                var cursor = await task;
                epoch ??= cursor.Epoch;
                Assert.Equal(epoch, cursor.Epoch);
                Assert.True(committed.TryAdd(cursor.Sequence, (id, i)), $"two writes answered with sequence {cursor.Sequence}");
                continue;
            }

            var refusal = Assert.IsType<ChangeRefusedException>(task.Exception?.InnerException);
            switch (expect)
            {
                case Expect.NotFound:
                    Assert.Equal((ChangeRefusal.RecordNotFound, 1, "missing-" + id), (refusal.Reason, refusal.ChangeIndex, refusal.RecordId));
                    break;
                case Expect.Exists:
                    Assert.Equal((ChangeRefusal.RecordAlreadyExists, 0, "fixed"), (refusal.Reason, refusal.ChangeIndex, refusal.RecordId));
                    break;
                default:
                    Assert.Equal((ChangeRefusal.PreconditionFailed, 0, "fixed"), (refusal.Reason, refusal.ChangeIndex, refusal.RecordId));
                    break;
            }
        }

        // The committed writes hold sequences 2 to 1 + their number, with no gap; each write's sequence is the log entry
        // holding its own changes.
        Assert.Equal(Enumerable.Range(2, 2 * PerNode * 2 / 5).Select(static s => (long)s), committed.Keys.Order());
        var keys = $"{{{prefix}:{RedisNode.Collection}}}";
        var log = await database.StreamRangeAsync(keys + ":log");
        Assert.Equal(Enumerable.Range(1, committed.Count + 1).Select(static s => $"{s}-0"), log.Select(static e => e.Id.ToString()));
        foreach (var (sequence, (id, _)) in committed)
        {
            Assert.Equal(id, RedisChanges.Decode((byte[])log[sequence - 1]["c"]!)[0].Id);
        }

        // Replaying the log from the start gives the records Redis holds: the log's order is the state's.
        var replayed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in log)
        {
            foreach (var change in RedisChanges.Decode((byte[])entry["c"]!))
            {
                if (change.Kind == RecordChangeKind.Destroy)
                {
                    replayed.Remove(change.Id);
                }
                else
                {
                    replayed[change.Id] = Encoding.UTF8.GetString(change.Value.Span);
                }
            }
        }

        var records = (await database.HashGetAllAsync(keys + ":records")).ToDictionary(static e => (string)e.Name!, static e => (string)e.Value!, StringComparer.Ordinal);
        Assert.Equal(replayed.OrderBy(static r => r.Key), records.OrderBy(static r => r.Key));
        Assert.Equal("""{"v":0}""", records["fixed"]);
        Assert.Equal(committed.Values.Select(static w => w.Id).Append("fixed").Order(StringComparer.Ordinal), records.Keys.Order(StringComparer.Ordinal));

        // Both replicas hold that state at the last sequence.
        var last = new Cursor(epoch!.Value, committed.Count + 1);
        await ScaleOutTests.WaitForAsync(() => a.Live.Cursor == last && b.Live.Cursor == last);
        foreach (var node in new[] { a, b })
        {
            Assert.All(records, r => Assert.True(node.Live.TryGet(r.Key, out var value) && Encoding.UTF8.GetString(value.Span) == r.Value, r.Key));
        }

        // The writes went in fewer script calls than there were writes.
        Assert.True(ScriptCalls(redis) - scriptCallsBefore < writes.Count, $"{ScriptCalls(redis) - scriptCallsBefore} script calls for {writes.Count} writes");
    }

    [Fact]
    public async Task ConditionalWritesMadeTogether_EachSeesTheOnesBeforeIt()
    {
        var prefix = Prefix();
        await using var a = await RedisNode.StartAsync(_redis, prefix);
        await a.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Create("r", """{"v":0}""")));

        // Made in this order without waiting: each conditional write is checked against what the writes before it left.
        var first = a.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Update("r", """{"v":1}""").IfMatch("""{"v":0}"""u8))).AsTask();
        var second = a.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Update("r", """{"v":2}""").IfMatch("""{"v":1}"""u8))).AsTask();
        var stale = a.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Update("r", """{"v":3}""").IfMatch("""{"v":1}"""u8))).AsTask();
        var destroy = a.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Destroy("r").IfMatch("""{"v":2}"""u8))).AsTask();
        var recreate = a.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Create("r", """{"v":4}"""))).AsTask();

        var one = await first;
        Assert.Equal(one.Sequence + 1, (await second).Sequence);
        var refused = await Assert.ThrowsAsync<ChangeRefusedException>(() => stale);
        Assert.Equal(ChangeRefusal.PreconditionFailed, refused.Reason);
        Assert.Equal(one.Sequence + 2, (await destroy).Sequence);
        Assert.Equal(one.Sequence + 3, (await recreate).Sequence);
        Assert.Equal(new Cursor(one.Epoch, one.Sequence + 3), a.Live.Cursor);
        Assert.True(a.Live.TryGet("r", out var record));
        Assert.Equal("""{"v":4}""", Encoding.UTF8.GetString(record.Span));
    }

    [Fact]
    public async Task RedisDown_EveryQueuedWriteUnavailable_NothingWritten_WritesGoOnOnceItIsBack()
    {
        var prefix = Prefix();
        await using var a = await RedisNode.StartAsync(_redis, prefix);
        await a.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Create("kept", """{"v":0}""")));
        var before = a.Live.Cursor;

        _redis.Kill();
        var writes = Enumerable.Range(0, 40)
            .Select(i => a.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Create($"lost-{i}", """{"v":1}"""))).AsTask())
            .ToList();

        foreach (var write in writes)
        {
            await Assert.ThrowsAsync<SourceUnavailableException>(() => write);
        }

        Assert.Equal(before, a.Live.Cursor);
        Assert.False(a.Live.TryGet("lost-0", out _));

        // Back (empty: a new epoch): the node's writes go on, each with its own answer, none of the refused ones in it.
        await _redis.RestartAsync();
        var again = await Task.WhenAll(Enumerable.Range(0, 10)
            .Select(i => a.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Create($"new-{i}", """{"v":2}"""))).AsTask()));
        Assert.Equal(10, again.Select(static c => c.Sequence).Distinct().Count());
        Assert.All(Enumerable.Range(0, 10), i => Assert.True(a.Live.TryGet($"new-{i}", out _)));
        Assert.False(a.Live.TryGet("lost-0", out _));
    }

    [Fact]
    public async Task WriteWithACancelledToken_RefusedBeforeItIsQueued_NothingWritten()
    {
        await using var node = await RedisNode.StartAsync(_redis, Prefix());
        var before = node.Live.Cursor;
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Create("c", """{"v":1}""")), cancelled.Token).AsTask());

        var next = await node.Publisher.PublishAsync(RedisNode.Collection, ChangeSet.Create(RecordChange.Create("d", """{"v":2}""")));
        Assert.Equal(before.Sequence + 1, next.Sequence);
        Assert.False(node.Live.TryGet("c", out _));
    }

    private static long ScriptCalls(ConnectionMultiplexer redis)
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        long calls = 0;
        foreach (var group in server.Info("commandstats"))
        {
            foreach (var stat in group.Where(static s => s.Key is "cmdstat_eval" or "cmdstat_evalsha"))
            {
                calls += long.Parse(stat.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return calls;
    }
}

/// <summary>The pub/sub message of a batch carries each committed write's event; a source's feed still sends one.</summary>
public sealed class RedisMessageTests
{
    [Fact]
    public void BatchMessage_EveryEventWithItsCursorAndChanges()
    {
        var events = new List<(Cursor Cursor, ReadOnlyMemory<byte> Changes)>();

        Assert.True(RedisChanges.TryParseMessage("*0000abcd 7 11:1:c2:r12:{} 8 9:1:d2:r10:"u8.ToArray(), events));

        Assert.Equal([new Cursor(0xabcd, 7), new Cursor(0xabcd, 8)], events.Select(static e => e.Cursor));
        Assert.Equal(RecordChangeKind.Create, RedisChanges.Decode(events[0].Changes.Span)[0].Kind);
        Assert.Equal("""{}""", Encoding.UTF8.GetString(RedisChanges.Decode(events[0].Changes.Span)[0].Value.Span));
        Assert.Equal(RecordChangeKind.Destroy, RedisChanges.Decode(events[1].Changes.Span)[0].Kind);
    }

    [Fact]
    public void SingleEventMessage_OfASourcesFeed()
    {
        var events = new List<(Cursor Cursor, ReadOnlyMemory<byte> Changes)>();

        Assert.True(RedisChanges.TryParseMessage("0000abcd 3 1:u2:r12:{}"u8.ToArray(), events));

        var (cursor, changes) = Assert.Single(events);
        Assert.Equal(new Cursor(0xabcd, 3), cursor);
        Assert.Equal("r1", RedisChanges.Decode(changes.Span)[0].Id);
    }

    [Theory]
    [InlineData("*0000abcd 7 99:1:c2:r12:{}")]
    [InlineData("*0000abcd 7 11:1:c2:r12:{} x")]
    [InlineData("*0000abcd")]
    [InlineData("*zzzzzzzz 7 11:1:c2:r12:{}")]
    [InlineData("released")]
    public void MalformedMessage_RefusedWithNoEvent(string message)
    {
        var events = new List<(Cursor Cursor, ReadOnlyMemory<byte> Changes)>();

        Assert.False(RedisChanges.TryParseMessage(Encoding.UTF8.GetBytes(message), events));

        Assert.Empty(events);
    }
}
