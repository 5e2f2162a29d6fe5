using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Rocket.AspNetCore.Tests;

/// <summary>
/// Collection families (instances created on use, independent cursors, eviction, the instance limit, route value
/// checks) and authorization on every HTTP path (REST, document GET, SSE, WebSocket upgrade), with a test scheme that
/// takes the user from an <c>X-User</c> header.
/// </summary>
public sealed class FamilyAndAuthorizationTests : IAsyncDisposable
{
    private WebApplication? _app;
    private HttpClient _client = null!;

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private CollectionRegistry Registry => _app!.Services.GetRequiredService<CollectionRegistry>();

    private CollectionFamily Rooms => Registry.Families.Single(static f => f.Template == "rooms/{room}/messages");

    private CollectionFamily Notes => Registry.Families.Single(static f => f.Template == "users/{user}/notes");

    private async Task StartAsync(Action<CollectionFamilyOptions>? rooms = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddAuthentication("test").AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>("test", null);
        builder.Services.AddAuthorization(o => o.AddPolicy("OwnNotes", p => p.RequireAuthenticatedUser().AddRequirements(new SameUser())));
        builder.Services.AddSingleton<PolicyCount>();
        builder.Services.AddSingleton<IAuthorizationHandler, SameUserHandler>();
        builder.Services.AddRocket()
            .AddCollection("messages")
            .AddCollection("private")
            .AddCollectionFamily("rooms/{room}/messages", rooms)
            .AddCollectionFamily("users/{user}/notes")
            .RequireAuthorization("private")
            .RequireAuthorization("users/{user}/notes", "OwnNotes")
            .AddSseTransport()
            .AddWebSocketTransport();
        _app = builder.Build();
        _app.UseWebSockets();
        _app.UseAuthentication();
        _app.UseAuthorization();
        _app.MapRocketCollection("messages");
        _app.MapRocketCollection("private");
        _app.MapRocketCollection("rooms/{room}/messages");
        _app.MapRocketCollection("users/{user}/notes");
        _app.MapRocketWebSocket();
        await _app.StartAsync();
        _client = new HttpClient { BaseAddress = new Uri(_app.Urls.Single() + "/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? user = null, string? json = null, string? accept = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (user is not null)
        {
            request.Headers.Add("X-User", user);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        return request;
    }

    private async Task<(HttpStatusCode Status, string Body, string? Cursor)> SendAsync(HttpMethod method, string path, string? user = null, string? json = null)
    {
        using var request = Request(method, path, user, json);
        using var response = await _client.SendAsync(request);
        var cursor = response.Headers.TryGetValues("Last-Event-ID", out var values) ? values.Single() : null;
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), cursor);
    }

    private static string ProblemType(string body) => JsonDocument.Parse(body).RootElement.GetProperty("type").GetString()!;

    [Fact]
    public async Task Instances_AreCreatedOnFirstUse_WithTheirOwnRecordsAndCursors()
    {
        await StartAsync();
        Assert.Equal(0, Rooms.Count);

        var lobby = await SendAsync(HttpMethod.Get, "rooms/lobby/messages");
        Assert.Equal(HttpStatusCode.OK, lobby.Status);
        Assert.Equal("""{"messages":[]}""", lobby.Body);
        Assert.Equal(1, Rooms.Count);

        var created = await SendAsync(HttpMethod.Post, "rooms/lobby/messages", json: """{"text":"hi"}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var kitchen = await SendAsync(HttpMethod.Post, "rooms/kitchen/messages", json: """{"text":"tea"}""");
        Assert.Equal(HttpStatusCode.Created, kitchen.Status);

        var lobbyAfter = await SendAsync(HttpMethod.Get, "rooms/lobby/messages?form=keyed");
        var kitchenAfter = await SendAsync(HttpMethod.Get, "rooms/kitchen/messages?form=keyed");
        Assert.Contains("hi", lobbyAfter.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("tea", lobbyAfter.Body, StringComparison.Ordinal);
        Assert.Contains("tea", kitchenAfter.Body, StringComparison.Ordinal);
        Assert.NotEqual(lobbyAfter.Cursor![..8], kitchenAfter.Cursor![..8]);
        Assert.Equal(2, Rooms.Count);
        Assert.True(Registry.TryGetCollection("rooms/lobby/messages", out var instance));
        Assert.Equal("messages", instance.DocumentName);

        // A stream of one room sees its own events only, addressed with the document member "messages".
        using var stream = Request(HttpMethod.Get, "rooms/lobby/messages", accept: "text/event-stream");
        stream.Headers.Add("Last-Event-ID", lobbyAfter.Cursor);
        using var response = await _client.SendAsync(stream, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        await SendAsync(HttpMethod.Post, "rooms/kitchen/messages", json: """{"text":"kitchen only"}""");
        await SendAsync(HttpMethod.Post, "rooms/lobby/messages", json: """{"text":"lobby only"}""");
        var patch = await reader.ReadUntilAsync("lobby only");
        Assert.DoesNotContain("kitchen only", patch, StringComparison.Ordinal);
        Assert.Contains("\"path\":\"/messages/", patch, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rooms/a%20b/messages")]
    [InlineData("rooms/..%2F/messages")]
    [InlineData("rooms/%C3%A9/messages")]
    public async Task InvalidRouteValue_404Problem_NothingCreated(string path)
    {
        await StartAsync();
        var answer = await SendAsync(HttpMethod.Post, path, json: """{"text":"x"}""");
        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        Assert.Equal("urn:rocket:problem:invalid-route-value", ProblemType(answer.Body));
        Assert.Equal(0, Rooms.Count);
    }

    [Fact]
    public async Task TooLongRouteValue_404Problem_NothingCreated()
    {
        await StartAsync(static o => o.MaxValueLength = 8);
        var answer = await SendAsync(HttpMethod.Get, "rooms/abcdefghi/messages");
        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        Assert.Contains("over the limit of 8", answer.Body, StringComparison.Ordinal);
        Assert.Equal(0, Rooms.Count);
    }

    [Fact]
    public async Task IdleInstance_IsEvicted_AndItsOldCursorGetsAReset()
    {
        await StartAsync(static o => o.IdleTimeout = TimeSpan.FromMilliseconds(100));
        await SendAsync(HttpMethod.Post, "rooms/lobby/messages", json: """{"text":"before"}""");
        var (_, _, cursor) = await SendAsync(HttpMethod.Get, "rooms/lobby/messages");
        await WaitUntilAsync(() => Rooms.Count == 0);

        using var stream = Request(HttpMethod.Get, "rooms/lobby/messages", accept: "text/event-stream");
        stream.Headers.Add("Last-Event-ID", cursor);
        using var response = await _client.SendAsync(stream, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var first = await ReadPatchEventAsync(reader);
        Assert.Contains("""data: [{"op":"replace","path":"","value":{"messages":{}}}]""", first, StringComparison.Ordinal);
        Assert.DoesNotContain("id: " + cursor![..8], first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstanceLimit_EvictsTheLeastRecentlyUsedIdleOne_Refuses503WhenAllHaveSubscribers()
    {
        await StartAsync(static o => o.MaxInstances = 1);
        using var stream = Request(HttpMethod.Get, "rooms/busy/messages", accept: "text/event-stream");
        using var response = await _client.SendAsync(stream, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        await ReadPatchEventAsync(reader);

        var refused = await SendAsync(HttpMethod.Post, "rooms/other/messages", json: """{"text":"x"}""");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
        Assert.Equal("urn:rocket:problem:family-full", ProblemType(refused.Body));
        Assert.False(Registry.TryGetCollection("rooms/other/messages", out _));

        response.Dispose();
        Assert.True(Registry.TryGetCollection("rooms/busy/messages", out var busy));
        await WaitUntilAsync(() => busy.SubscriberCount == 0);
        var admitted = await SendAsync(HttpMethod.Post, "rooms/other/messages", json: """{"text":"x"}""");
        Assert.Equal(HttpStatusCode.Created, admitted.Status);
        Assert.False(Registry.TryGetCollection("rooms/busy/messages", out _));
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("alice", HttpStatusCode.Forbidden)]
    [InlineData("bob", HttpStatusCode.OK)]
    public async Task FamilyPolicy_DecidesTheDocumentGet_BeforeAnythingIsCreated(string? user, HttpStatusCode expected)
    {
        await StartAsync();
        var answer = await SendAsync(HttpMethod.Get, "users/bob/notes", user);
        Assert.Equal(expected, answer.Status);
        Assert.Equal(expected == HttpStatusCode.OK ? 1 : 0, Notes.Count);
        if (expected != HttpStatusCode.OK)
        {
            Assert.StartsWith("urn:rocket:problem:", ProblemType(answer.Body), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RefusedWrite_PublishesNothing_RefusedStream_GetsNoByteOfTheCollection()
    {
        await StartAsync();
        var mine = await SendAsync(HttpMethod.Post, "users/bob/notes", "bob", """{"text":"secret"}""");
        Assert.Equal(HttpStatusCode.Created, mine.Status);
        Assert.True(Registry.TryGetCollection("users/bob/notes", out var notes));
        var cursor = notes.Cursor;

        var write = await SendAsync(HttpMethod.Post, "users/bob/notes", "alice", """{"text":"forged"}""");
        Assert.Equal(HttpStatusCode.Forbidden, write.Status);
        var id = JsonDocument.Parse(mine.Body).RootElement.GetProperty("id").GetString();
        var delete = await SendAsync(HttpMethod.Delete, $"users/bob/notes/{id}", "alice");
        Assert.Equal(HttpStatusCode.Forbidden, delete.Status);
        Assert.Equal(cursor, notes.Cursor);
        Assert.Equal(1, notes.Count);

        foreach (var (user, status) in new[] { ((string?)null, HttpStatusCode.Unauthorized), ("alice", HttpStatusCode.Forbidden) })
        {
            // On first subscribe and on resume (a cursor) alike.
            foreach (var resume in new[] { null, cursor.ToString() })
            {
                using var stream = Request(HttpMethod.Get, "users/bob/notes", user, accept: "text/event-stream");
                if (resume is not null)
                {
                    stream.Headers.Add("Last-Event-ID", resume);
                }

                using var response = await _client.SendAsync(stream);
                Assert.Equal(status, response.StatusCode);
                var body = await response.Content.ReadAsStringAsync();
                Assert.DoesNotContain("secret", body, StringComparison.Ordinal);
                Assert.Equal("application/problem+json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            }
        }

        Assert.Equal(0, notes.SubscriberCount);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("alice", HttpStatusCode.Forbidden)]
    public async Task RefusedWebSocket_IsAnsweredBeforeTheUpgrade(string? user, HttpStatusCode expected)
    {
        await StartAsync();
        using var socket = new ClientWebSocket { Options = { CollectHttpResponseDetails = true } };
        if (user is not null)
        {
            socket.Options.SetRequestHeader("X-User", user);
        }

        var uri = new Uri(_client.BaseAddress!.ToString().Replace("http", "ws", StringComparison.Ordinal) + "users/bob/notes");
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, CancellationToken.None));
        Assert.Equal(expected, socket.HttpStatusCode);
        Assert.Equal(0, Notes.Count);
    }

    [Fact]
    public async Task RightUser_StreamsOverSseAndWebSocket()
    {
        await StartAsync();
        await SendAsync(HttpMethod.Post, "users/bob/notes", "bob", """{"text":"mine"}""");
        using var stream = Request(HttpMethod.Get, "users/bob/notes", "bob", accept: "text/event-stream");
        using var response = await _client.SendAsync(stream, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        Assert.Contains("mine", await ReadPatchEventAsync(reader), StringComparison.Ordinal);

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-User", "bob");
        await socket.ConnectAsync(new Uri(_client.BaseAddress!.ToString().Replace("http", "ws", StringComparison.Ordinal) + "users/bob/notes"), CancellationToken.None);
        var buffer = new byte[4096];
        var received = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("mine", Encoding.UTF8.GetString(buffer, 0, received.Count), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePolicy_IsEvaluatedOncePerSubscribe_NeverPerEvent()
    {
        await StartAsync();
        var count = _app!.Services.GetRequiredService<PolicyCount>();
        using var stream = Request(HttpMethod.Get, "users/bob/notes", "bob", accept: "text/event-stream");
        using var response = await _client.SendAsync(stream, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        await ReadPatchEventAsync(reader);
        Assert.Equal(1, count.Evaluations);

        // Published straight to the collection: 20 events reach the subscriber, and the policy is not asked again.
        Assert.True(Registry.TryGetCollection("users/bob/notes", out var notes));
        for (var i = 0; i < 20; i++)
        {
            notes.Create(i.ToString(System.Globalization.CultureInfo.InvariantCulture), "{}"u8);
        }

        await reader.ReadUntilAsync("\"path\":\"/notes/19\"");
        Assert.Equal(1, count.Evaluations);
    }

    [Fact]
    public async Task GuardedFixedCollection_DefaultPolicy_AnonymousRefused_SignedInServed()
    {
        await StartAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "private")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Post, "private", json: """{"a":1}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "private", "carol")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "messages")).Status);
    }

    [Fact]
    public async Task WebSocketFromAForeignOrigin_IsRefused_OwnOriginIsNot()
    {
        await StartAsync();
        var uri = new Uri(_client.BaseAddress!.ToString().Replace("http", "ws", StringComparison.Ordinal) + "users/bob/notes");
        using (var foreign = new ClientWebSocket { Options = { CollectHttpResponseDetails = true } })
        {
            foreign.Options.SetRequestHeader("X-User", "bob");
            foreign.Options.SetRequestHeader("Origin", "http://evil.example");
            await Assert.ThrowsAsync<WebSocketException>(() => foreign.ConnectAsync(uri, CancellationToken.None));
            Assert.Equal(HttpStatusCode.Forbidden, foreign.HttpStatusCode);
        }

        using var own = new ClientWebSocket();
        own.Options.SetRequestHeader("X-User", "bob");
        own.Options.SetRequestHeader("Origin", _client.BaseAddress!.GetLeftPart(UriPartial.Authority));
        await own.ConnectAsync(uri, CancellationToken.None);
        Assert.Equal(WebSocketState.Open, own.State);
    }

    [Fact]
    public async Task StreamsEnd_WhenTheirAuthenticationExpires_WithTheReason()
    {
        await StartAsync();
        using var request = Request(HttpMethod.Get, "users/bob/notes", "bob", accept: "text/event-stream");
        request.Headers.Add("X-Expires-Ms", "300");
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var close = await reader.ReadUntilAsync("event: close\n");
        var data = await reader.ReadEventAsync();
        Assert.Contains("\"status\":\"Expired\"", data, StringComparison.Ordinal);
        Assert.Contains("event: patch", close, StringComparison.Ordinal);

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-User", "bob");
        socket.Options.SetRequestHeader("X-Expires-Ms", "300");
        await socket.ConnectAsync(new Uri(_client.BaseAddress!.ToString().Replace("http", "ws", StringComparison.Ordinal) + "users/bob/notes"), CancellationToken.None);
        var buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while ((await socket.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close)
        {
        }

        Assert.Equal(4001, (int)socket.CloseStatus!.Value);

        using var multi = new ClientWebSocket();
        multi.Options.SetRequestHeader("X-User", "bob");
        multi.Options.SetRequestHeader("X-Expires-Ms", "300");
        await multi.ConnectAsync(new Uri(_client.BaseAddress!.ToString().Replace("http", "ws", StringComparison.Ordinal) + "rocket/ws"), CancellationToken.None);
        await SendAsync(multi, """{"type":"subscribe","collection":"users/bob/notes"}""");
        Assert.Equal("patch", (await ReceiveAsync(multi)).GetProperty("type").GetString());
        var closed = await ReceiveAsync(multi);
        Assert.Equal("close", closed.GetProperty("type").GetString());
        Assert.Equal("Expired", closed.GetProperty("status").GetString());
        Assert.Equal("users/bob/notes", closed.GetProperty("collection").GetString());
    }

    private async Task<ClientWebSocket> OpenMultiAsync(string? user)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("rocket.jsonpatch.v1");
        if (user is not null)
        {
            socket.Options.SetRequestHeader("X-User", user);
        }

        await socket.ConnectAsync(new Uri(_client.BaseAddress!.ToString().Replace("http", "ws", StringComparison.Ordinal) + "rocket/ws"), CancellationToken.None);
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonElement> ReceiveAsync(ClientWebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        var count = 0;
        ValueWebSocketReceiveResult result;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(count), timeout.Token);
            count += result.Count;
        }
        while (!result.EndOfMessage);
        return JsonDocument.Parse(buffer.AsMemory(0, count)).RootElement.Clone();
    }

    [Fact]
    public async Task OneWebSocket_SeveralCollections_Interleaved_ResumedPerCollection_Unsubscribed()
    {
        await StartAsync();
        using var socket = await OpenMultiAsync("bob");
        await SendAsync(socket, """{"type":"subscribe","collection":"messages","lastEventId":null}""");
        var first = await ReceiveAsync(socket);
        Assert.Equal("messages", first.GetProperty("collection").GetString());
        Assert.Equal("", first.GetProperty("patch")[0].GetProperty("path").GetString());
        await SendAsync(socket, """{"type":"subscribe","collection":"users/bob/notes"}""");
        var notesReset = await ReceiveAsync(socket);
        Assert.Equal("users/bob/notes", notesReset.GetProperty("collection").GetString());
        Assert.Equal("""{"notes":{}}""", notesReset.GetProperty("patch")[0].GetProperty("value").GetRawText());

        await SendAsync(HttpMethod.Post, "messages", json: """{"text":"m1"}""");
        await SendAsync(HttpMethod.Post, "users/bob/notes", "bob", """{"text":"n1"}""");
        await SendAsync(HttpMethod.Post, "messages", json: """{"text":"m2"}""");
        var events = new[] { await ReceiveAsync(socket), await ReceiveAsync(socket), await ReceiveAsync(socket) };
        Assert.Equal(["messages", "users/bob/notes", "messages"], events.Select(static e => e.GetProperty("collection").GetString()));
        var afterM1 = events[0].GetProperty("id").GetString();

        // Unsubscribed: nothing more of messages; then resumed from m1's cursor: exactly m2, then live.
        await SendAsync(socket, """{"type":"unsubscribe","collection":"messages"}""");

        // The socket's messages are handled in order and an unsubscribe has no answer: the error of a refused subscribe
        // sent after it shows it was handled before m3 is written.
        await SendAsync(socket, """{"type":"subscribe","collection":"users/alice/notes"}""");
        Assert.Equal("error", (await ReceiveAsync(socket)).GetProperty("type").GetString());
        await SendAsync(HttpMethod.Post, "messages", json: """{"text":"m3"}""");
        await SendAsync(HttpMethod.Post, "users/bob/notes", "bob", """{"text":"n2"}""");
        var next = await ReceiveAsync(socket);
        Assert.Equal("users/bob/notes", next.GetProperty("collection").GetString());
        await SendAsync(socket, $$"""{"type":"subscribe","collection":"messages","lastEventId":"{{afterM1}}"}""");
        var replayed = new[] { await ReceiveAsync(socket), await ReceiveAsync(socket) };
        Assert.Contains("m2", replayed[0].GetProperty("patch").GetRawText(), StringComparison.Ordinal);
        Assert.Contains("m3", replayed[1].GetProperty("patch").GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneWebSocket_RefusedSubscribe_IsAnError_TheConnectionStaysUp()
    {
        await StartAsync();
        using var socket = await OpenMultiAsync("alice");
        await SendAsync(socket, """{"type":"subscribe","collection":"users/bob/notes"}""");
        var refused = await ReceiveAsync(socket);
        Assert.Equal("error", refused.GetProperty("type").GetString());
        Assert.Equal("Forbidden", refused.GetProperty("status").GetString());
        Assert.Equal(0, Notes.Count);

        await SendAsync(socket, """{"type":"subscribe","collection":"nope"}""");
        Assert.Equal("NotFound", (await ReceiveAsync(socket)).GetProperty("status").GetString());

        await SendAsync(socket, """{"type":"subscribe","collection":"users/alice/notes"}""");
        var mine = await ReceiveAsync(socket);
        Assert.Equal("patch", mine.GetProperty("type").GetString());
        Assert.Equal("users/alice/notes", mine.GetProperty("collection").GetString());

        using var anonymous = await OpenMultiAsync(null);
        await SendAsync(anonymous, """{"type":"subscribe","collection":"users/alice/notes"}""");
        Assert.Equal("Unauthorized", (await ReceiveAsync(anonymous)).GetProperty("status").GetString());
    }

    private static async Task<string> ReadPatchEventAsync(SseReader reader)
    {
        while (true)
        {
            var next = await reader.ReadEventAsync();
            if (next.Contains("event: patch", StringComparison.Ordinal))
            {
                return next;
            }
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            Assert.False(timeout.IsCancellationRequested, "the condition did not hold in time");
            await Task.Delay(10, CancellationToken.None);
        }
    }

    private sealed class SameUser : IAuthorizationRequirement;

    private sealed class PolicyCount
    {
        private int _evaluations;

        public int Evaluations => Volatile.Read(ref _evaluations);

        public void Add() => Interlocked.Increment(ref _evaluations);
    }

    // Resource-based: the policy sees the family's route values.
    private sealed class SameUserHandler(PolicyCount count) : AuthorizationHandler<SameUser, CollectionResource>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, SameUser requirement, CollectionResource resource)
        {
            count.Add();
            if (resource.RouteValues.TryGetValue("user", out var owner) && owner == context.User.Identity?.Name)
            {
                context.Succeed(requirement);
            }

            return Task.CompletedTask;
        }
    }

    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue("X-User", out var user))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user.ToString())], Scheme.Name);
            var properties = new AuthenticationProperties();
            if (Request.Headers.TryGetValue("X-Expires-Ms", out var ms))
            {
                // A ticket that says when it expires, as a cookie's does.
                properties.ExpiresUtc = DateTimeOffset.UtcNow.AddMilliseconds(double.Parse(ms.ToString(), System.Globalization.CultureInfo.InvariantCulture));
            }

            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), properties, Scheme.Name)));
        }
    }
}
