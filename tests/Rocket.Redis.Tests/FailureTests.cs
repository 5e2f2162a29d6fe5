using System.Linq;
using System.Net.Http;
using System.Net;
using System.Text.Json;
using System.Text;
using System.Threading.Tasks;
using System;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Rocket.Diagnostics;
using System.Threading;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rocket.Testing;
using StackExchange.Redis;

namespace Rocket.Redis.Tests;

/// <summary>
/// What clients see when Redis goes away, comes back empty or is flushed: writes answer 503 and write nothing, streams
/// stay open, and a Redis that lost its data means a new epoch, so every client is reset, never left with a gap.
/// Each test has a redis-server of its own, since each breaks it.
/// </summary>
public sealed class FailureTests : IAsyncLifetime
{
    private RedisProcess _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisProcess.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task Flushall_StreamsClosedAndEveryCursorGetsAResetOfTheNewEpoch()
    {
        await using var node = await RedisNode.StartAsync(_redis, "f");
        using var stream = await node.OpenStreamAsync();
        await stream.NextPatchAsync();
        await node.PostAsync("""{"text":"before"}""");
        var (_, oldCursor) = await node.GetKeyedAsync();
        await stream.NextPatchAsync();

        using var loads = new MetricCollector<long>(node.App.Services.GetRequiredService<IMeterFactory>(), RocketTelemetry.MeterName, "rocket.redis.loads");
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration + ",allowAdmin=true"))
        {
            await admin.GetServers().Single().FlushAllDatabasesAsync();
        }

        // The position check finds the epoch gone: the stream is told to reconnect, and the old cursor means nothing now.
        var close = await stream.NextAsync();
        Assert.Equal("close", close?.Type);
        Assert.Contains("ShuttingDown", close?.Data, StringComparison.Ordinal);
        using var again = await node.OpenStreamAsync(oldCursor);
        var reset = await again.NextPatchAsync();
        Assert.Equal("""[{"op":"replace","path":"","value":{"messages":{}}}]""", reset.Patch);
        Assert.NotEqual(oldCursor[..8], reset.Id[..8]);

        // Counted once the load is over, which may be just after the streams it ended were told.
        await ScaleOutTests.WaitForAsync(() => loads.GetMeasurementSnapshot().Any(static m => Equals(m.Tags["rocket.redis.load.reason"], "epoch_changed") && Equals(m.Tags["rocket.collection"], "messages")));
    }

    [Fact]
    public async Task RedisDown_Writes503WithRetryAfterNothingWritten_GetServedStreamOpen_ThenResetWhenBackEmpty()
    {
        await using var node = await RedisNode.StartAsync(_redis, "d");
        await node.PostAsync("""{"text":"kept"}""");
        using var stream = await node.OpenStreamAsync();
        var start = await stream.NextPatchAsync();

        _redis.Kill();

        using (var write = await node.Client.PostAsync("messages", new StringContent("""{"text":"lost"}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, write.StatusCode);
            Assert.Equal("application/problem+json; charset=utf-8", write.Content.Headers.ContentType?.ToString());
            Assert.True(write.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            Assert.Equal("urn:rocket:problem:store-unavailable", JsonElement.Parse(await write.Content.ReadAsStringAsync()).GetProperty("type").GetString());
        }

        // GET is served from the node's replica: the last state it had, with that state's cursor.
        var (body, cursor) = await node.GetKeyedAsync();
        Assert.Contains("kept", body, StringComparison.Ordinal);
        Assert.DoesNotContain("lost", body, StringComparison.Ordinal);
        Assert.Equal(start.Id, cursor);

        // Redis comes back empty: a new epoch, so the open stream is told to reconnect, and gets a reset.
        await _redis.RestartAsync();
        var close = await stream.NextAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("close", close?.Type);
        using var again = await node.OpenStreamAsync(start.Id);
        var reset = await again.NextPatchAsync();
        Assert.Equal("""[{"op":"replace","path":"","value":{"messages":{}}}]""", reset.Patch);
    }

    [Fact]
    public async Task RedisDown_ANewFamilyInstance503WithRetryAfter_ServedOnceRedisIsBack()
    {
        await using var node = await RedisNode.StartAsync(_redis, "fd");
        _redis.Kill();

        using (var refused = await node.Client.GetAsync("rooms/new/messages"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            Assert.Equal("urn:rocket:problem:store-unavailable", JsonElement.Parse(await refused.Content.ReadAsStringAsync()).GetProperty("type").GetString());
        }

        await _redis.RestartAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await node.Client.GetAsync("rooms/new/messages?form=keyed");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal("""{"messages":{}}""", await response.Content.ReadAsStringAsync());
                break;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(DateTime.UtcNow < deadline, "the instance was not served after Redis came back");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task RedisDown_MultiCollectionWebSocket_ANewFamilyInstanceRefusedTheConnectionGoesOn()
    {
        await using var node = await RedisNode.StartAsync(_redis, "fw");
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        await socket.ConnectAsync(new Uri(node.Client.BaseAddress!.ToString().Replace("http", "ws", StringComparison.Ordinal) + "rocket/ws"), CancellationToken.None);
        _redis.Kill();

        await SendAsync(socket, """{"type":"subscribe","collection":"rooms/x/messages"}""");
        var refused = await ReceiveAsync(socket);
        Assert.Equal("error", refused.GetProperty("type").GetString());
        Assert.Equal("StoreUnavailable", refused.GetProperty("status").GetString());

        // The same connection still serves a collection this node holds (from its replica while Redis is away).
        await SendAsync(socket, """{"type":"subscribe","collection":"messages"}""");
        var reset = await ReceiveAsync(socket);
        Assert.Equal("patch", reset.GetProperty("type").GetString());
        Assert.Equal("messages", reset.GetProperty("collection").GetString());
    }

    private static Task SendAsync(System.Net.WebSockets.ClientWebSocket socket, string message) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(message), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonElement> ReceiveAsync(System.Net.WebSockets.ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[64 * 1024];
        var length = 0;
        System.Net.WebSockets.WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), timeout.Token);
            length += result.Count;
        }
        while (!result.EndOfMessage);

        return JsonElement.Parse(buffer.AsSpan(0, length));
    }

    [Fact]
    public async Task HealthCheck_HealthyWithRedis_UnhealthyWhileItIsDown_HealthyWhenItIsBack()
    {
        await using var node = await RedisNode.StartAsync(_redis, "h");
        var health = node.App.Services.GetRequiredService<HealthCheckService>();
        var report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, report.Entries["rocket-redis"].Status);
        Assert.Equal(HealthStatus.Healthy, report.Entries["rocket"].Status);

        _redis.Kill();
        await WaitForAsync(health, HealthStatus.Unhealthy);

        // The collections stay loaded (GET and streams are served from the replica); only Redis is reported.
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Entries["rocket"].Status);
        await _redis.RestartAsync();
        await WaitForAsync(health, HealthStatus.Healthy);
    }

    private static async Task WaitForAsync(HealthCheckService health, HealthStatus status)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        HealthReportEntry entry;
        while ((entry = (await health.CheckHealthAsync(timeout.Token)).Entries["rocket-redis"]).Status != status)
        {
            Assert.False(timeout.IsCancellationRequested, $"rocket-redis stayed {entry.Status}: {entry.Description}");
            await Task.Delay(50, CancellationToken.None);
        }
    }

    [Fact]
    public async Task RedisBackWithAnOlderState_NewEpochAndEveryClientReset()
    {
        // What a failover to a replica that lacked the last writes looks like to a node: the same epoch, but a sequence
        // behind the one the node (and its clients) saw. Made here by restarting Redis from an older snapshot.
        await using var node = await RedisNode.StartAsync(_redis, "b");
        await node.PostAsync("""{"n":1}""");
        await node.PostAsync("""{"n":2}""");
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration + ",allowAdmin=true"))
        {
            // A synchronous SAVE: the snapshot is on disk when it answers.
            await admin.GetDatabase().ExecuteAsync("SAVE");
        }

        await node.PostAsync("""{"n":3}""");
        await node.PostAsync("""{"n":4}""");
        var (_, seen) = await node.GetKeyedAsync();
        using var stream = await node.OpenStreamAsync(seen);

        await _redis.RestartAsync(keepSnapshot: true);

        var close = await stream.NextAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("close", close?.Type);
        using var again = await node.OpenStreamAsync(seen);
        var reset = await again.NextPatchAsync();
        Assert.StartsWith("""[{"op":"replace","path":"","value":""", reset.Patch, StringComparison.Ordinal);
        Assert.NotEqual(seen[..8], reset.Id[..8]);
        Assert.Contains("\"n\":2", reset.Patch, StringComparison.Ordinal);
        Assert.DoesNotContain("\"n\":3", reset.Patch, StringComparison.Ordinal);

        // Writes go on in the new epoch.
        await node.PostAsync("""{"n":5}""");
        Assert.Contains("\"n\":5", (await node.GetKeyedAsync()).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailoverToAReplicaThatLackedTheLastWrites_NoNodeSawThem_NewEpochAndClientsReset()
    {
        // A second redis-server replicates the first; it stops receiving before the last two writes (as a lagging
        // replica would), the primary dies with them and the replica is promoted with REPLICAOF NO ONE. The node that
        // saw the lost writes is gone too, so only the replication id can tell the promoted server is not the epoch's.
        await using var replica = await RedisProcess.StartAsync();
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(replica.Configuration + ",allowAdmin=true"))
        {
            await admin.GetDatabase().ExecuteAsync("REPLICAOF", "127.0.0.1", _redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        string seen;
        {
            await using var node = await RedisNode.StartAsync(_redis, "fo");
            await node.PostAsync("""{"n":1}""");
            await node.PostAsync("""{"n":2}""");
            await WaitReplicatedAsync(replica, "{fo:messages}:meta", 2);

            // The replica's link is cut (it now follows a port nobody listens on) before the writes it will lack.
            await using (var admin = await ConnectionMultiplexer.ConnectAsync(replica.Configuration + ",allowAdmin=true"))
            {
                await admin.GetDatabase().ExecuteAsync("REPLICAOF", "127.0.0.1", "1");
            }

            using var stream = await node.OpenStreamAsync();
            await stream.NextPatchAsync();
            await node.PostAsync("""{"n":3}""");
            seen = (await stream.NextPatchAsync()).Id;
            await node.PostAsync("""{"n":4}""");
        }

        _redis.Kill();
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(replica.Configuration + ",allowAdmin=true"))
        {
            await admin.GetDatabase().ExecuteAsync("REPLICAOF", "NO", "ONE");
        }

        // A node on the promoted server: its epoch is new, so the client that saw n=3 under the old one gets a reset of
        // what the server has (n=1, n=2 and the new write), never a replay that skips or repeats.
        await using var promoted = await RedisNode.StartAsync(replica, "fo");
        await promoted.PostAsync("""{"n":5}""");
        await promoted.PostAsync("""{"n":6}""");
        using var again = await promoted.OpenStreamAsync(seen);
        var reset = await again.NextPatchAsync();
        Assert.StartsWith("""[{"op":"replace","path":"","value":""", reset.Patch, StringComparison.Ordinal);
        Assert.NotEqual(seen[..8], reset.Id[..8]);
        Assert.Contains("\"n\":2", reset.Patch, StringComparison.Ordinal);
        Assert.Contains("\"n\":6", reset.Patch, StringComparison.Ordinal);
        Assert.DoesNotContain("\"n\":3", reset.Patch, StringComparison.Ordinal);
        Assert.Contains("a replica was promoted", promoted.Logs.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailoverWhileANodeRuns_ItsStreamsAreClosedAndResetInTheNewEpoch()
    {
        // The node is pointed at both servers; StackExchange.Redis follows the primary when the old one is gone.
        await using var replica = await RedisProcess.StartAsync();
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(replica.Configuration + ",allowAdmin=true"))
        {
            await admin.GetDatabase().ExecuteAsync("REPLICAOF", "127.0.0.1", _redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var both = $"127.0.0.1:{_redis.Port},127.0.0.1:{replica.Port},abortConnect=false,connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000";
        await using var node = await RedisNode.StartAsync(both, "fr");
        await node.PostAsync("""{"n":1}""");
        await WaitReplicatedAsync(replica, "{fr:messages}:meta", 1);

        using var stream = await node.OpenStreamAsync();
        var start = await stream.NextPatchAsync();
        _redis.Kill();
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(replica.Configuration + ",allowAdmin=true"))
        {
            await admin.GetDatabase().ExecuteAsync("REPLICAOF", "NO", "ONE");
        }

        // Whatever the promoted server holds, the node cannot know it has every write: a new epoch, and a reset.
        var close = await stream.NextAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("close", close?.Type);
        var id = await PostWhenAcceptedAsync(node, """{"n":2}""");
        using var again = await node.OpenStreamAsync(start.Id);
        var reset = await again.NextPatchAsync();
        Assert.StartsWith("""[{"op":"replace","path":"","value":""", reset.Patch, StringComparison.Ordinal);
        Assert.NotEqual(start.Id[..8], reset.Id[..8]);
        Assert.Contains(id, reset.Patch, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedisPaused_WritesTimeOutAs503_StreamCarriesOnAfterwards()
    {
        await using var node = await RedisNode.StartAsync(_redis, "p");
        using var stream = await node.OpenStreamAsync();
        await stream.NextPatchAsync();
        await using var admin = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration + ",allowAdmin=true");

        // CLIENT PAUSE holds every client's commands: the write waits past the client's 2-second timeout.
        await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "3000", "ALL");
        using (var write = await node.Client.PostAsync("messages", new StringContent("""{"text":"during"}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, write.StatusCode);
        }

        await admin.GetDatabase().ExecuteAsync("CLIENT", "UNPAUSE");
        var id = await PostWhenAcceptedAsync(node, """{"text":"after"}""");

        // The same stream, never closed, receives what is written once Redis answers again. A write that timed out may
        // still have been committed by Redis afterwards; if it was, the stream carries it too, in order.
        string patch;
        do
        {
            patch = (await stream.NextPatchAsync()).Patch;
        }
        while (!patch.Contains(id, StringComparison.Ordinal));
    }

    // Waits until the replica holds the collection at `sequence` (the initial sync and replication are asynchronous).
    private static async Task WaitReplicatedAsync(RedisProcess replica, string meta, long sequence)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(replica.Configuration + ",allowAdmin=true");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((long?)await connection.GetDatabase().HashGetAsync(meta, "seq") != sequence)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("the replica did not catch up: " + await connection.GetDatabase().ExecuteAsync("INFO", "replication"));
            }

            await Task.Delay(20);
        }
    }

    // Redis may take a moment to answer again after a pause; a 503 in that moment is the documented answer.
    private static async Task<string> PostWhenAcceptedAsync(RedisNode node, string json)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            using var response = await node.Client.PostAsync("messages", new StringContent(json, Encoding.UTF8, "application/json"));
            if (response.StatusCode == HttpStatusCode.Created)
            {
                return JsonElement.Parse(await response.Content.ReadAsStringAsync()).GetProperty("id").GetString()!;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(DateTime.UtcNow < deadline, "writes were not accepted again after the pause");
            await Task.Delay(100);
        }
    }
}
