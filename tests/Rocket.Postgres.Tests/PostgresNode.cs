using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.ServerSentEvents;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rocket.Live;
using Rocket.Redis;
using Rocket.Testing;

namespace Rocket.Postgres.Tests;

/// <summary>One Rocket server (Kestrel on 127.0.0.1:0) serving a table as the collection "todos" over SSE, WebSocket and SignalR.</summary>
public sealed class PostgresNode : IAsyncDisposable
{
    public const string Collection = "todos";

    private PostgresNode(WebApplication app, Uri address, LogList logs)
    {
        App = app;
        Address = address;
        Logs = logs;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public LogList Logs { get; }

    public HttpClient Client { get; }

    public LiveCollection Live => App.Services.GetRequiredService<CollectionRegistry>().GetCollection(Collection);

    /// <summary>The source following the table on this node.</summary>
    internal PostgresCollectionSource Source =>
        App.Services.GetRequiredService<PostgresSourceService>().TryGetSource(Collection, out var source) ? source : throw new InvalidOperationException("not started");

    /// <summary>
    /// Starts a node following <paramref name="table"/>; slot and publication are named after the table, so tests do not
    /// share them. With <paramref name="redis"/> the node is one of several on that Redis (key prefix: the table's name).
    /// </summary>
    public static async Task<PostgresNode> StartAsync(PostgresProcess postgres, string table, Action<PostgresCollectionOptions>? configure = null, Action<LiveCollectionOptions>? collection = null, RedisProcess? redis = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var logs = new LogList { MinimumLevel = LogLevel.Information };
        builder.Logging.AddProvider(logs);
        var rocket = builder.Services.AddRocket();
        if (redis is not null)
        {
            rocket.AddRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.KeyPrefix = table;
                o.PositionCheckInterval = TimeSpan.FromMilliseconds(200);
            });
        }

        rocket
            .AddPostgresCollection(
                Collection,
                o =>
                {
                    o.ConnectionString = postgres.ConnectionString;
                    o.Table = table;
                    o.SlotPrefix = "rocket_" + table;
                    o.Publication = "rocket_" + table;
                    o.ReconnectDelay = TimeSpan.FromMilliseconds(50);
                    o.MaxReconnectDelay = TimeSpan.FromMilliseconds(500);
                    o.CheckpointInterval = TimeSpan.FromMilliseconds(100);
                    o.LeaseDuration = TimeSpan.FromSeconds(1);
                    configure?.Invoke(o);
                },
                o =>
                {
                    o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
                    collection?.Invoke(o);
                })
            .AddSseTransport()
            .AddWebSocketTransport()
            .AddSignalRTransport();
        var app = builder.Build();
        app.UseWebSockets();
        app.MapRocketCollection(Collection);
        app.MapRocketHub();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new PostgresNode(app, new Uri(app.Urls.Single() + "/"), logs);
    }

    /// <summary>The keyed document and its cursor, as GET returns them.</summary>
    public async Task<(string Body, string Cursor)> GetKeyedAsync()
    {
        using var response = await Client.GetAsync(Collection + "?form=keyed");
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadAsStringAsync(), response.Headers.GetValues("Last-Event-ID").Single());
    }

    /// <summary>Asserts that a stream resumed from <paramref name="staleCursor"/> starts with a reset at <paramref name="expectedCursor"/>.</summary>
    public async Task AssertResetAsync(string staleCursor, string expectedCursor)
    {
        await using var stale = await OpenSseAsync(staleCursor);
        var reset = await stale.NextPatchAsync();
        Assert.StartsWith("""[{"op":"replace","path":"",""", reset.Patch, StringComparison.Ordinal);
        Assert.Equal(expectedCursor, reset.Id);
    }

    public async Task<SseFeed> OpenSseAsync(string? cursor = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Collection);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (cursor is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", cursor);
        }

        var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return new SseFeed(response, await response.Content.ReadAsStreamAsync());
    }

    public async Task<WebSocketFeed> OpenWebSocketAsync()
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("rocket.jsonpatch.v1");
        await socket.ConnectAsync(new Uri($"ws://{Address.Authority}/{Collection}"), CancellationToken.None);
        await socket.SendAsync("""{"type":"resume"}"""u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        return new WebSocketFeed(socket);
    }

    public async Task<SignalRFeed> OpenSignalRAsync()
    {
        // The hub's contract: Subscribe(collection, lastEventId), then patch(collection, id, reset, patch) invocations.
        var connection = new HubConnectionBuilder().WithUrl(new Uri(Address, "/rocket")).Build();
        var patches = Channel.CreateUnbounded<(string Id, string Patch)>();
        connection.On<string, string, bool, JsonElement>("patch", (_, id, _, patch) => patches.Writer.TryWrite((id, patch.GetRawText())));
        await connection.StartAsync();
        await connection.InvokeAsync("Subscribe", Collection, null);
        return new SignalRFeed(connection, patches.Reader);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            await App.StopAsync();
        }
        finally
        {
            await App.DisposeAsync();
        }
    }
}

/// <summary>A stream of (cursor, patch) events, whatever the transport.</summary>
public interface IPatchFeed : IAsyncDisposable
{
    /// <summary>The next patch event; fails the test when none comes in time.</summary>
    Task<(string Id, string Patch)> NextPatchAsync(TimeSpan? timeout = null);
}

public sealed class SseFeed(HttpResponseMessage response, Stream body) : IPatchFeed
{
    private readonly IAsyncEnumerator<SseItem<string>> _events = SseParser.Create(body).EnumerateAsync().GetAsyncEnumerator();

    /// <summary>The next event (type, cursor, data), or null when the stream ended.</summary>
    public async Task<(string Type, string? Id, string Data)?> NextAsync(TimeSpan? timeout = null)
    {
        var read = _events.MoveNextAsync().AsTask();
        var finished = await Task.WhenAny(read, Task.Delay(timeout ?? TimeSpan.FromSeconds(20)));
        Assert.True(finished == read, "no event arrived in time");
        return await read ? (_events.Current.EventType, _events.Current.EventId, _events.Current.Data) : null;
    }

    public async Task<(string Id, string Patch)> NextPatchAsync(TimeSpan? timeout = null)
    {
        var item = await NextAsync(timeout);
        Assert.NotNull(item);
        Assert.True(item.Value.Type == "patch", $"expected a patch, got {item.Value.Type}: {item.Value.Data}");
        return (item.Value.Id!, item.Value.Data);
    }

    public ValueTask DisposeAsync()
    {
        response.Dispose();
        return ValueTask.CompletedTask;
    }
}

public sealed class WebSocketFeed(ClientWebSocket socket) : IPatchFeed
{
    private readonly ArrayBufferWriter<byte> _message = new(4096);

    public async Task<(string Id, string Patch)> NextPatchAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        _message.ResetWrittenCount();
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(_message.GetMemory(4096), cancel.Token);
            _message.Advance(result.Count);
        }
        while (!result.EndOfMessage);

        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        using var document = JsonDocument.Parse(_message.WrittenMemory);
        Assert.Equal("patch", document.RootElement.GetProperty("type").GetString());
        return (document.RootElement.GetProperty("id").GetString()!, document.RootElement.GetProperty("patch").GetRawText());
    }

    public ValueTask DisposeAsync()
    {
        socket.Abort();
        socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

public sealed class SignalRFeed(HubConnection connection, ChannelReader<(string Id, string Patch)> patches) : IPatchFeed
{
    public async Task<(string Id, string Patch)> NextPatchAsync(TimeSpan? timeout = null) =>
        await patches.ReadAsync().AsTask().WaitAsync(timeout ?? TimeSpan.FromSeconds(20));

    public async ValueTask DisposeAsync() => await connection.DisposeAsync();
}
