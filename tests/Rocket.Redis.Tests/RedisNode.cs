using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.ServerSentEvents;
using System.Net;
using System.Text.Json;
using System.Text;
using System.Threading.Tasks;
using System.Threading;
using System;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rocket.AspNetCore;
using Rocket.Live;
using Rocket.Testing;

namespace Rocket.Redis.Tests;

/// <summary>One Rocket server (a Kestrel node on 127.0.0.1:0) whose collection "messages" lives in Redis.</summary>
public sealed class RedisNode : IAsyncDisposable
{
    public const string Collection = "messages";

    private RedisNode(WebApplication app, Uri address)
    {
        App = app;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    /// <summary>What the node logged at Warning and above, for failure messages.</summary>
    public LogList Logs { get; private init; } = new();

    public HttpClient Client { get; }

    public LiveCollection Live => App.Services.GetRequiredService<CollectionRegistry>().GetCollection(Collection);

    public IRocketPublisher Publisher => App.Services.GetRequiredService<IRocketPublisher>();

    public static Task<RedisNode> StartAsync(RedisProcess redis, string keyPrefix, Action<LiveCollectionOptions>? collection = null, Action<RedisRocketOptions>? options = null, Action<CollectionFamilyOptions>? family = null) =>
        StartAsync(redis.Configuration, keyPrefix, collection, options, family);

    public static async Task<RedisNode> StartAsync(string configuration, string keyPrefix, Action<LiveCollectionOptions>? collection = null, Action<RedisRocketOptions>? options = null, Action<CollectionFamilyOptions>? family = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var logs = new LogList();
        builder.Logging.AddProvider(logs);
        builder.Services.AddRocket()
            .AddCollection(Collection, o =>
            {
                // Heartbeats often enough that a test sees a quiet stream is alive.
                o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
                collection?.Invoke(o);
            })
            .AddCollectionFamily("rooms/{room}/messages", family)
            .AddSseTransport()
            .AddWebSocketTransport()
            .AddRedis(o =>
            {
                o.Configuration = configuration;
                o.KeyPrefix = keyPrefix;
                o.PositionCheckInterval = TimeSpan.FromMilliseconds(200);
                options?.Invoke(o);
            });
        builder.Services.AddHealthChecks().AddRocket().AddRocketRedis();
        var app = builder.Build();
        app.UseWebSockets();
        app.MapRocketCollection(Collection);
        app.MapRocketCollection("rooms/{room}/messages");
        app.MapRocketWebSocket();
        await app.StartAsync();
        return new RedisNode(app, new Uri(app.Urls.Single() + "/")) { Logs = logs };
    }

    public async Task<string> PostAsync(string json, string collection = Collection)
    {
        using var response = await Client.PostAsync(collection, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST answered {response.StatusCode}; the node logged: {Logs}");
        return JsonElement.Parse(await response.Content.ReadAsStringAsync()).GetProperty("id").GetString()!;
    }

    /// <summary>The keyed document and its cursor, as GET returns them.</summary>
    public async Task<(string Body, string Cursor)> GetKeyedAsync(string collection = Collection)
    {
        using var response = await Client.GetAsync(collection + "?form=keyed");
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadAsStringAsync(), response.Headers.GetValues("Last-Event-ID").Single());
    }

    /// <summary>Opens an SSE stream (optionally resuming from <paramref name="cursor"/>) and returns its events as they come.</summary>
    public async Task<EventStreamReader> OpenStreamAsync(string? cursor = null, string collection = Collection)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, collection);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (cursor is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", cursor);
        }

        var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return new EventStreamReader(response, await response.Content.ReadAsStreamAsync());
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>An open SSE stream: reads its events one at a time, each with a deadline.</summary>
public sealed class EventStreamReader : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly IAsyncEnumerator<SseItem<string>> _events;

    public EventStreamReader(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _events = SseParser.Create(body).EnumerateAsync().GetAsyncEnumerator();
    }

    /// <summary>The next event (type, cursor, data), or null when the stream ended.</summary>
    public async Task<(string Type, string? Id, string Data)?> NextAsync(TimeSpan? timeout = null)
    {
        var read = _events.MoveNextAsync().AsTask();
        var finished = await Task.WhenAny(read, Task.Delay(timeout ?? TimeSpan.FromSeconds(20)));
        Assert.True(finished == read, "no event arrived in time");
        return await read ? (_events.Current.EventType, _events.Current.EventId, _events.Current.Data) : null;
    }

    /// <summary>The next patch event, skipping nothing else but comments (which the parser drops).</summary>
    public async Task<(string Id, string Patch)> NextPatchAsync()
    {
        var item = await NextAsync();
        Assert.NotNull(item);
        Assert.Equal("patch", item.Value.Type);
        return (item.Value.Id!, item.Value.Data);
    }

    public void Dispose()
    {
        _response.Dispose();
    }
}
