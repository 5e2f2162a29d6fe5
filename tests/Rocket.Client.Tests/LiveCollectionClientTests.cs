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
    public async Task LargeResetAndLongEvent_OverTheSliceSize_ArriveWhole(string transport)
    {
        // A reset of about 3 MB and a live event of about 200 KB: both longer than a transport's slice (64 KiB), so sent in
        // slices (SignalR: patchPart messages); quotes, backslashes and multi-byte characters fall on the cuts.
        await using var server = await ClientTestServer.StartAsync();
        var text = string.Concat(Enumerable.Repeat("é \\\"q\\\" € 😀 ", 4_000));
        for (var i = 0; i < 30; i++)
        {
            server.Collection.Create($"r{i}", Json($"{i} {text}"));
        }

        var changes = new ConcurrentQueue<CollectionChange>();
        await using var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, transport, fetchFirst: false));
        client.Changed += (_, c) => changes.Enqueue(c);

        await client.StartAsync();
        await Transports.ConvergesAsync(client, server);
        server.Collection.Create("long", Json($"live {text}"));
        await Transports.ConvergesAsync(client, server);

        Assert.Equal([CollectionChangeKind.Reset, CollectionChangeKind.Patch], changes.Select(c => c.Kind));
        Assert.Equal(31, client.Records.Count);
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
        var outages = new ConcurrentQueue<string>();
        await using var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, transport));
        client.Changed += (_, c) => changes.Enqueue(c);
        client.Reconnecting += (_, _) => outages.Enqueue("reconnecting");
        client.Reconnected += (_, _) => outages.Enqueue("reconnected");
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

        // Each cut is one outage: reported once when it starts and once when the stream is back.
        await Transports.Eventually(() => outages.Count % 2 == 0, "the last outage's end to be reported");
        var reported = outages.ToList();
        Assert.True(reported.Count >= 6, $"{reported.Count / 2} outages reported for 3 cuts");
        Assert.All(reported.Chunk(2), pair => Assert.Equal(["reconnecting", "reconnected"], pair));
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
        using var blocked = new SemaphoreSlim(0);
        var reasons = new ConcurrentQueue<string?>();
        await using var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, transport));
        client.Changed += (_, c) =>
        {
            if (c.Kind == CollectionChangeKind.Patch && !release.IsSet)
            {
                blocked.Release();
                release.Wait(TimeSpan.FromSeconds(60));
            }
        };
        client.Reconnecting += (_, s) => reasons.Enqueue(s.Reason);
        await client.StartAsync();
        await Transports.Eventually(() => server.Collection.SubscriberCount == 1, "the subscription");

        // The client's handler is stuck from the first event on: from then on it reads nothing, so whatever the
        // machine's speed, the writes fill the TCP path and then the server's queue, and the server closes it.
        server.Collection.Update("big", Json("first"));
        Assert.True(await blocked.WaitAsync(TimeSpan.FromSeconds(20)), "the handler to block");
        var payload = new string('x', 64 * 1024);
        for (var writes = 0; server.Collection.SubscriberCount > 0; writes++)
        {
            Assert.True(writes < 100_000, "the server never closed the client that stopped reading");
            server.Collection.Update("big", Json(payload + writes));
            if (writes % 64 == 63)
            {
                // Lets the subscriber's writer run between bursts on a machine with few cores.
                await Task.Yield();
            }
        }

        release.Set();
        server.Collection.Update("big", Json("after"));

        await Transports.ConvergesAsync(client, server, timeoutSeconds: 40);
        Assert.Single(reasons);
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

    [Fact]
    public async Task HandlersAttachedBeforeStart_SeeTheFirstDocumentAndEveryState()
    {
        await using var server = await ClientTestServer.StartAsync();
        server.Collection.Create("a", Json("before start"));
        var seen = new ConcurrentQueue<string>();
        await using var client = new LiveCollectionClient(server.CollectionUri, o => o.InitialReconnectDelay = TimeSpan.FromMilliseconds(20));
        client.StateChanged += (_, s) => seen.Enqueue(s.State.ToString());
        client.Changed += (_, c) => seen.Enqueue($"{c.Kind} {string.Join(",", c.RecordIds)}");

        await client.StartAsync();

        Assert.Equal(["Connecting", "Refetch a", "Live"], seen);
        Assert.Equal(ConnectionState.Live, client.State);
    }

    [Fact]
    public async Task ServerDownForSeveralAttempts_OneReconnectingThenOneReconnected()
    {
        var server = await ClientTestServer.StartAsync();
        var port = server.Port;
        var attempts = 0;
        var states = new ConcurrentQueue<ConnectionState>();
        var reported = new ConcurrentQueue<string>();
        var options = Transports.Options(server.CollectionUri, "sse");
        options.HttpMessageHandler = new CountingHandler(() => Interlocked.Increment(ref attempts));
        await using var client = new LiveCollectionClient(options);
        client.StateChanged += (_, s) => states.Enqueue(s.State);
        client.Reconnecting += (_, _) => reported.Enqueue("reconnecting");
        client.Reconnected += (_, s) => reported.Enqueue($"reconnected {s.State}");
        await client.StartAsync();

        // While the old server stops, the client may still get a stream from it (one more outage, reported as such);
        // once it is gone, every attempt fails until the restart.
        await server.DisposeAsync();
        await Transports.Eventually(() => client.State == ConnectionState.Reconnecting, "the client to notice the server is gone");
        var reportedBefore = reported.Count;
        var before = Volatile.Read(ref attempts);
        await Transports.Eventually(() => Volatile.Read(ref attempts) >= before + 3, "three failed reconnection attempts");
        Assert.Equal(reportedBefore, reported.Count);
        await using var restarted = await ClientTestServer.StartAsync(port);
        restarted.Collection.Create("new", Json("after the restart"));
        await Transports.ConvergesAsync(client, restarted);

        Assert.Equal(["reconnected Live"], reported.Skip(reportedBefore));
        Assert.All(reported.Chunk(2), pair => Assert.Equal(["reconnecting", "reconnected Live"], pair));
        Assert.Equal([ConnectionState.Connecting, ConnectionState.Live], states.Take(2));
        Assert.All(states.Skip(2).Chunk(2), pair => Assert.Equal([ConnectionState.Reconnecting, ConnectionState.Live], pair));
    }

    [Fact]
    public async Task GetRecords_Typed_WithTheDefaultWebOptions_AndSharedUntilTheNextChange()
    {
        await using var server = await ClientTestServer.StartAsync();
        server.Collection.Create("a", """{"text":"hi","likes":3}"""u8);
        await using var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, "sse"));
        await client.StartAsync();

        var first = client.GetRecords<Message>();

        Assert.Equal(new Message("hi", 3), first["a"]);
        Assert.Same(first, client.GetRecords<Message>());
        server.Collection.Update("a", """{"text":"hello","likes":4}"""u8);
        await Transports.ConvergesAsync(client, server);
        Assert.Equal(new Message("hello", 4), client.GetRecords<Message>()["a"]);
    }

    [Fact]
    public async Task GetRecords_Typed_WithTheAppsSerializerOptions()
    {
        await using var server = await ClientTestServer.StartAsync();
        server.Collection.Create("a", """{"note_text":"snake"}"""u8);
        var options = Transports.Options(server.CollectionUri, "sse");
        options.SerializerOptions = new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower };
        await using var client = new LiveCollectionClient(options);

        await client.StartAsync();

        Assert.Equal("snake", client.GetRecords<Note>()["a"].NoteText);
    }

    [Fact]
    public async Task WebSocket_CloseStartedByTheServer_IsCompletedByTheClient()
    {
        var server = await ClientTestServer.StartAsync();
        var options = Transports.Options(server.CollectionUri, "websocket");

        // No reconnection while the test looks: a new stream on the stopping server would be cut by its shutdown.
        options.ReconnectJitter = false;
        options.InitialReconnectDelay = TimeSpan.FromMinutes(10);
        options.MaxReconnectDelay = TimeSpan.FromMinutes(10);
        await using var client = new LiveCollectionClient(options);
        var reasons = new ConcurrentQueue<string?>();
        client.Reconnecting += (_, s) => reasons.Enqueue(s.Reason);
        await client.StartAsync();
        await Transports.Eventually(() => server.Collection.SubscriberCount == 1, "the subscription");

        // Stopping the server closes every stream with ShuttingDown, then waits for each client's close frame.
        await server.DisposeAsync();
        await Transports.Eventually(() => !reasons.IsEmpty, "the client to see the close");

        Assert.StartsWith("ShuttingDown", reasons.Single(), StringComparison.Ordinal);
        var failures = server.Logs.Where(l => l.Category.StartsWith("Rocket.Transports.WebSockets", StringComparison.Ordinal)
            && (l.Exception is not null || l.EventName.Contains("TimedOut", StringComparison.Ordinal))).ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task WebSocket_ClientDisposed_ClosesWithAHandshake()
    {
        await using var server = await ClientTestServer.StartAsync();
        var client = new LiveCollectionClient(Transports.Options(server.CollectionUri, "websocket"));
        await client.StartAsync();
        await Transports.Eventually(() => server.Collection.SubscriberCount == 1, "the subscription");

        await client.DisposeAsync();
        await Transports.Eventually(() => server.OpenStreams == 0, "the server to end the stream");

        Assert.Equal(ConnectionState.Stopped, client.State);
        var failures = server.Logs.Where(l => l.Category.StartsWith("Rocket.Transports.WebSockets", StringComparison.Ordinal)
            && (l.Exception is not null || l.EventName.Contains("TimedOut", StringComparison.Ordinal))).ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private sealed record Message(string Text, int Likes);

    private sealed record Note(string NoteText);

    private sealed class CountingHandler(Action onSend) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            onSend();
            return base.SendAsync(request, cancellationToken);
        }
    }
}
