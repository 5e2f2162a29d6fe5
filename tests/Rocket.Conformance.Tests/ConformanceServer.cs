using System.Linq;
using System.Threading.Tasks;
using System.Threading;
using System;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Live;
using Rocket.Redis;
using Rocket.Testing;

namespace Rocket.Conformance.Tests;

/// <summary>
/// A real Kestrel server on 127.0.0.1:0 with one collection, <c>messages</c>, and the transport under test; or, given a
/// Redis, a deployment of two such nodes on it, where the test writes on one node and its clients connect to the other.
/// </summary>
public sealed class ConformanceServer : IAsyncDisposable
{
    private readonly WebApplication? _writer;

    private ConformanceServer(WebApplication app, WebApplication? writer)
    {
        App = app;
        _writer = writer;
        BaseAddress = new Uri(app.Urls.Single());
        Collection = app.Services.GetRequiredService<CollectionRegistry>().GetCollection("messages");
    }

    /// <summary>The node the clients connect to.</summary>
    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    /// <summary>The collection of the node the clients connect to (a replica when there are two nodes).</summary>
    public LiveCollection Collection { get; }

    public static async Task<ConformanceServer> StartAsync(ITransportUnderTest transport, Action<LiveCollectionOptions>? configure = null, RedisProcess? redis = null)
    {
        var prefix = "c" + Guid.NewGuid().ToString("N")[..8];
        var subscriberNode = await StartNodeAsync(transport, configure, redis, prefix);
        var writerNode = redis is null ? null : await StartNodeAsync(transport, configure, redis, prefix);
        return new ConformanceServer(subscriberNode, writerNode);
    }

    /// <summary>Creates a record: on the collection itself, or through the other node, returning once the clients' node has it.</summary>
    public Cursor Create(string id, ReadOnlySpan<byte> json) => Write(ChangeSet.Create(RecordChange.Create(id, json)));

    public Cursor Update(string id, ReadOnlySpan<byte> json) => Write(ChangeSet.Create(RecordChange.Update(id, json)));

    public Cursor Delete(string id) => Write(ChangeSet.Create(RecordChange.Destroy(id)));

    public async ValueTask DisposeAsync()
    {
        try
        {
            await App.StopAsync();
            if (_writer is not null)
            {
                await _writer.StopAsync();
            }
        }
        finally
        {
            await App.DisposeAsync();
            if (_writer is not null)
            {
                await _writer.DisposeAsync();
            }
        }
    }

    private Cursor Write(ChangeSet changes)
    {
        if (_writer is null)
        {
            return Collection.Apply(changes);
        }

        var cursor = _writer.Services.GetRequiredService<IRocketPublisher>().PublishAsync("messages", changes).AsTask().GetAwaiter().GetResult();

        // The replica gets it by pub/sub; the suite reads the clients' node's state right after a write, so it waits.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (Collection.Cursor.Sequence < cursor.Sequence || Collection.Cursor.Epoch != cursor.Epoch)
        {
            timeout.Token.ThrowIfCancellationRequested();
            Thread.Sleep(1);
        }

        return cursor;
    }

    private static async Task<WebApplication> StartNodeAsync(ITransportUnderTest transport, Action<LiveCollectionOptions>? configure, RedisProcess? redis, string prefix)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var rocket = builder.Services.AddRocket().AddCollection("messages", configure);
        if (redis is not null)
        {
            rocket.AddRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.KeyPrefix = prefix;
            });
        }

        transport.Register(rocket);
        var app = builder.Build();
        transport.Map(app);
        app.MapRocketCollection("messages");
        await app.StartAsync();
        return app;
    }
}
