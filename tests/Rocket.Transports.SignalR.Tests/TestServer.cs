using System;
using System.Linq;
using System.Net.Http;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rocket.Live;

namespace Rocket.Transports.SignalR.Tests;

/// <summary>A real Kestrel server on 127.0.0.1:0 with <c>messages</c> and <c>rooms</c> collections, SSE, SignalR and the REST scaffold.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress };
    }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public CollectionRegistry Registry => _app.Services.GetRequiredService<CollectionRegistry>();

    public LiveCollection Messages => Registry.GetCollection("messages");

    public LiveCollection Rooms => Registry.GetCollection("rooms");

    public static async Task<TestServer> StartAsync(Action<LiveCollectionOptions>? collection = null, Action<SignalRTransportOptions>? signalR = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddRocket()
            .AddCollection("messages", collection)
            .AddCollection("rooms")
            .AddSseTransport()
            .AddSignalRTransport(signalR);
        var app = builder.Build();
        app.MapRocketCollection("messages");
        app.MapRocketHub();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestServer(app, new Uri(address));
    }

    /// <summary>A started connection to the hub, with its <c>patch</c> and <c>close</c> handlers registered.</summary>
    public async Task<HubClient> ConnectAsync(string protocol)
    {
        var builder = new HubConnectionBuilder().WithUrl(new Uri(BaseAddress, "/rocket"));
        if (protocol == "msgpack")
        {
            builder.AddMessagePackProtocol();
        }

        var client = new HubClient(builder.Build());
        await client.Connection.StartAsync();
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
