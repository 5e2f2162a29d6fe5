using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;

namespace Rocket.Client.Tests;

public sealed class LiveCollectionClientTests
{
    private static byte[] Json(string text) => Encoding.UTF8.GetBytes($$"""{"text":"{{text}}"}""");

    [Theory]
    [MemberData(nameof(Transports.All), MemberType = typeof(Transports))]
    public async Task Copy_AfterCreatesUpdatesAndDeletes_EqualsServerDocument(string transport)
    {
        await using var server = await ClientTestServer.StartAsync();
        server.Collection.Create("a", Json("before start"));
        var changes = new ConcurrentQueue<CollectionChange>();
        await using var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, transport));
        client.Changed += (_, c) => changes.Enqueue(c);

        await client.StartAsync();
        Assert.Equal(ConnectionState.Live, client.State);
        Assert.Equal("before start", client.Records["a"].GetProperty("text").GetString());

        server.Collection.Create("b", Json("one"));
        server.Collection.Update("a", Json("two"));
        server.Collection.Delete("b");
        server.Collection.Create("c/~d", Json("escaped id"));
        await Transports.ConvergesAsync(client, server);

        var list = changes.ToList();
        Assert.Equal(CollectionChangeKind.Refetch, list[0].Kind);
        Assert.Equal(["add b", "replace a", "remove b", "add c/~d"], list.Skip(1).Select(c => $"{c.Operations[0].Op.ToString().ToLowerInvariant()} {c.RecordIds[0]}"));
        Transports.AssertNoGapNoDuplicate(list);
    }

    [Theory]
    [MemberData(nameof(Transports.All), MemberType = typeof(Transports))]
    public Task RecordsAtDefaultDepthLimit_InResetAndLiveEvents_CopyEqualsServer(string transport) =>
        // The deepest record a collection accepts by default reaches the client inside the deepest wrapping each
        // transport has (a reset: the document inside a replace inside the patch, plus the transport's own message).
        AssertDeepRecordsConvergeAsync(transport, LiveCollectionOptions.DefaultMaxRecordDepth);

    [Theory]
    [InlineData("sse")]
    [InlineData("websocket")]
    [InlineData("signalr-messagepack")]
    public Task RecordsAtGreatestDepthLimit_InResetAndLiveEvents_CopyEqualsServer(string transport) =>
        // A server raised to the greatest record depth: the client reads deeper than the default 64 levels. (SignalR's
        // JSON protocol reads its messages at 64 levels itself, so only MessagePack carries such records.)
        AssertDeepRecordsConvergeAsync(transport, LiveCollectionOptions.MaxRecordDepthLimit);

    private static async Task AssertDeepRecordsConvergeAsync(string transport, int depth)
    {
        await using var server = await ClientTestServer.StartAsync(configure: c => c.MaxRecordDepth = depth);
        var deepest = Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth));
        server.Collection.Create("before", deepest);
        await using var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, transport, fetchFirst: false));

        await client.StartAsync();
        await Transports.ConvergesAsync(client, server);
        server.Collection.Create("live", deepest);
        await Transports.ConvergesAsync(client, server);

        Assert.Equal(2, client.Records.Count);
    }

    [Theory]
    [MemberData(nameof(Transports.All), MemberType = typeof(Transports))]
    public async Task StreamOnly_StartsWithReset_ThenLive(string transport)
    {
        await using var server = await ClientTestServer.StartAsync();
        server.Collection.Create("a", Json("x"));
        var changes = new ConcurrentQueue<CollectionChange>();
        await using var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, transport, fetchFirst: false));
        client.Changed += (_, c) => changes.Enqueue(c);

        await client.StartAsync();
        await Transports.Eventually(() => !changes.IsEmpty, "the reset");
        server.Collection.Create("b", Json("y"));
        await Transports.ConvergesAsync(client, server);

        Assert.True(changes.TryPeek(out var first));
        Assert.Equal(CollectionChangeKind.Reset, first.Kind);
        Assert.True(first.IsReset);
        Assert.Equal(["a"], first.RecordIds);
    }

    [Theory]
    [MemberData(nameof(Transports.All), MemberType = typeof(Transports))]
    public async Task ServerRestart_NewEpoch_ClientReportsResetAndEqualsNewServer(string transport)
    {
        var server = await ClientTestServer.StartAsync();
        var port = server.Port;
        server.Collection.Create("old", Json("gone after the restart"));
        var changes = new ConcurrentQueue<CollectionChange>();
        await using var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, transport));
        client.Changed += (_, c) => changes.Enqueue(c);
        await client.StartAsync();
        await Transports.ConvergesAsync(client, server);

        await server.DisposeAsync();
        await Transports.Eventually(() => client.State == ConnectionState.Reconnecting, "the client to notice the server is gone");
        await using var restarted = await ClientTestServer.StartAsync(port);
        restarted.Collection.Create("new", Json("after the restart"));

        await Transports.ConvergesAsync(client, restarted);
        Assert.Contains(changes, c => c.Kind == CollectionChangeKind.Reset && c.Cursor!.StartsWith(restarted.Collection.Cursor.ToString()[..8], StringComparison.Ordinal));
        Assert.Equal(["new"], client.Records.Keys);
        Assert.Equal(ConnectionState.Live, client.State);
    }

    [Theory]
    [MemberData(nameof(Transports.All), MemberType = typeof(Transports))]
    public async Task ConnectionCut_MidStream_ResumesWithoutGapOrDuplicate(string transport)
    {
        await using var server = await ClientTestServer.StartAsync();
        var changes = new ConcurrentQueue<CollectionChange>();
        var reconnects = 0;
        await using var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, transport));
        client.Changed += (_, c) => changes.Enqueue(c);
        client.StateChanged += (_, s) =>
        {
            if (s.State == ConnectionState.Reconnecting)
            {
                Interlocked.Increment(ref reconnects);
            }
        };
        await client.StartAsync();

        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 5; i++)
            {
                server.Collection.Create($"r{round}-{i}", Json("live"));
            }

            await Transports.Eventually(() => server.OpenStreams > 0, "an open stream");
            Assert.True(server.CutStreams() > 0);

            // Changes made while the client is cut off are replayed on resume.
            server.Collection.Update($"r{round}-0", Json("while cut"));
            server.Collection.Delete($"r{round}-1");
            await Transports.ConvergesAsync(client, server);
        }

        Assert.True(Volatile.Read(ref reconnects) >= 3, $"{reconnects} reconnects");
        var list = changes.ToList();
        Assert.DoesNotContain(list, c => c.Kind == CollectionChangeKind.Reset);
        Assert.Single(list, c => c.Kind == CollectionChangeKind.Refetch);
        Assert.Equal(server.Collection.Cursor.Sequence, list.Count(c => c.Kind == CollectionChangeKind.Patch));
        Transports.AssertNoGapNoDuplicate(list);
    }

    [Theory]
    [InlineData("sse")]
    [InlineData("websocket")]
    public async Task SlowClient_ClosedByServer_RecoversAndConverges(string transport)
    {
        // SignalR's .NET client reads its socket into a buffer of its own whatever the handler does, so it never falls
        // behind at the server (docs/signalr.md); SSE and WebSocket clients push back through TCP.
        await using var server = await ClientTestServer.StartAsync(configure: o =>
        {
            o.SubscriberQueueMaxEvents = 16;
        });
        server.Collection.Create("big", Json("small"));
        using var release = new ManualResetEventSlim();
        var reasons = new ConcurrentQueue<string?>();
        await using var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, transport));
        client.Changed += (_, c) =>
        {
            if (c.Kind == CollectionChangeKind.Patch)
            {
                release.Wait(TimeSpan.FromSeconds(60));
            }
        };
        client.StateChanged += (_, s) => reasons.Enqueue(s.Reason);
        await client.StartAsync();
        await Transports.Eventually(() => server.Collection.SubscriberCount == 1, "the subscription");

        var payload = new string('x', 64 * 1024);
        var writes = 0;
        while (server.Collection.SubscriberCount > 0 && writes < 2_000)
        {
            server.Collection.Update("big", Json(payload + writes));
            writes++;

            // Paced, so a client that reads keeps up and the queue only fills because this one stopped reading.
            await Task.Delay(2);
        }

        await Transports.Eventually(() => server.Collection.SubscriberCount == 0, "the server to close the slow client");
        release.Set();
        server.Collection.Update("big", Json("after"));

        await Transports.ConvergesAsync(client, server, timeoutSeconds: 40);
        Assert.Contains(reasons, r => r is not null && r != "starting");

        // More than the queue holds: the client's blocked handler filled the TCP path first, then the server's queue.
        Assert.True(writes > 16, $"{writes} writes");
        Assert.Equal("after", client.Records["big"].GetProperty("text").GetString());
    }

    [Theory]
    [MemberData(nameof(Transports.All), MemberType = typeof(Transports))]
    public async Task Property_RandomChangesWithRandomDisconnects_CopyEqualsServer(string transport)
    {
        await using var server = await ClientTestServer.StartAsync(configure: o => o.HistoryMaxEvents = 64);
        var changes = new ConcurrentQueue<CollectionChange>();
        await using var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, transport));
        client.Changed += (_, c) => changes.Enqueue(c);
        await client.StartAsync();

        var random = new Random(20261126);
        var ids = new List<string>();
        var next = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        for (var op = 0; op < 200 && !deadline.IsCancellationRequested; op++)
        {
            var roll = random.Next(100);
            if (ids.Count == 0 || roll < 40)
            {
                var id = $"m{next++}";
                server.Collection.Create(id, Json($"created {op}"));
                ids.Add(id);
            }
            else if (roll < 75)
            {
                server.Collection.Update(ids[random.Next(ids.Count)], Json($"updated {op}"));
            }
            else
            {
                var at = random.Next(ids.Count);
                server.Collection.Delete(ids[at]);
                ids.RemoveAt(at);
            }

            if (random.Next(100) < 4)
            {
                server.CutStreams();
            }

            if (random.Next(100) < 10)
            {
                // Let the client catch up now and then, so cuts land both mid-burst and while idle.
                await Task.Yield();
            }
        }

        await Transports.ConvergesAsync(client, server, timeoutSeconds: 30);
        Transports.AssertNoGapNoDuplicate(changes.ToList());
    }

    [Theory]
    [MemberData(nameof(Transports.All), MemberType = typeof(Transports))]
    public async Task Start_ConnectionRefused_FailsClearly(string transport)
    {
        var port = ClientTestServer.FreePort();
        var options = Transports.Options(new Uri($"http://127.0.0.1:{port}/messages"), transport, fetchFirst: false);
        await using var client = new LiveCollectionClient(options);

        var e = await Assert.ThrowsAnyAsync<Exception>(() => client.StartAsync());
        Assert.Contains("refused", e.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Start_NotACollection_FailsWithHttpStatus()
    {
        await using var server = await ClientTestServer.StartAsync();
        var options = Transports.Options(new Uri(server.CollectionUri, "/nothing"), "sse");
        await using var client = new LiveCollectionClient(options);

        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.StartAsync());
        Assert.Contains("404", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hooks_HeadersAndAccessToken_SentOnEveryRequest()
    {
        await using var server = await ClientTestServer.StartAsync();
        var seen = new ConcurrentQueue<string>();
        var options = Transports.Options(server.CollectionUri, "sse");
        options.Headers.Add(new("X-Test", "yes"));
        options.AccessTokenProvider = _ => ValueTask.FromResult<string?>("t0ken");
        options.ConfigureRequest = request => seen.Enqueue($"{request.Headers.Accept} {request.Headers.Authorization} {string.Join(",", request.Headers.GetValues("X-Test"))}");
        await using var client = new LiveCollectionClient(options);

        await client.StartAsync();

        Assert.Equal(["application/json Bearer t0ken yes", "text/event-stream Bearer t0ken yes"], seen);
    }

    [Theory]
    [MemberData(nameof(Transports.All), MemberType = typeof(Transports))]
    public async Task Hooks_HeadersTokenAndCookies_ReachTheStreamRequest(string transport)
    {
        await using var server = await ClientTestServer.StartAsync();
        var options = Transports.Options(server.CollectionUri, transport);
        options.Headers.Add(new("X-Test", "yes"));
        options.AccessTokenProvider = _ => ValueTask.FromResult<string?>("t0ken");
        options.Cookies = new System.Net.CookieContainer();
        options.Cookies.Add(new System.Net.Cookie("session", "c00kie", "/", "127.0.0.1"));
        await using var client = new LiveCollectionClient(options);

        await client.StartAsync();
        await Transports.Eventually(() => server.Collection.SubscriberCount == 1, "the subscription");

        var streamPath = transport.StartsWith("signalr", StringComparison.Ordinal) ? "/rocket" : "/messages";
        Assert.Contains(server.Requests, r => r.StartsWith($"GET {streamPath} x-test=yes auth=Bearer t0ken cookie=session=c00kie", StringComparison.Ordinal));
        Assert.Contains(server.Requests, r => r == "GET /messages x-test=yes auth=Bearer t0ken cookie=session=c00kie");
    }

    [Fact]
    public async Task ReadChangesAsync_YieldsChangesInOrder_EndsWhenStopped()
    {
        await using var server = await ClientTestServer.StartAsync();
        var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, "sse"));
        await client.StartAsync();
        var seen = new List<string>();
        var changes = client.ReadChangesAsync();
        var reading = Task.Run(async () =>
        {
            await foreach (var change in changes)
            {
                seen.Add($"{change.Kind} {string.Join(",", change.RecordIds)}");
                if (seen.Count == 2)
                {
                    await client.DisposeAsync();
                }
            }
        });
        await Transports.Eventually(() => server.Collection.SubscriberCount == 1, "the subscription");

        server.Collection.Create("a", Json("1"));
        server.Collection.Delete("a");

        await reading.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(["Patch a", "Patch a"], seen);
    }

    [Fact]
    public async Task Dispose_StopsAndReportsStopped()
    {
        await using var server = await ClientTestServer.StartAsync();
        var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, "sse"));
        var states = new ConcurrentQueue<ConnectionState>();
        client.StateChanged += (_, s) => states.Enqueue(s.State);
        await client.StartAsync();
        await Transports.Eventually(() => server.Collection.SubscriberCount == 1, "the subscription");

        await client.DisposeAsync();

        Assert.Equal(ConnectionState.Stopped, client.State);
        Assert.Equal([ConnectionState.Connecting, ConnectionState.Live, ConnectionState.Stopped], states.Distinct());
        await Transports.Eventually(() => server.Collection.SubscriberCount == 0, "the server to see the stream end");
    }
}
