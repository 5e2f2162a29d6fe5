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

/// <summary>A real Kestrel server on 127.0.0.1:0 with a <c>messages</c> collection, SSE, SignalR and the REST scaffold.</summary>
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

    public static async Task<TestServer> StartAsync(Action<LiveCollectionOptions>? collection = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddRocket()
            .AddCollection("messages", collection)
            .AddSseTransport()
            .AddSignalRTransport();
        var app = builder.Build();
        app.MapRocketCollection("messages");
        app.MapRocketHub();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestServer(app, new Uri(address));
    }

    public HubConnection CreateConnection(string protocol)
    {
        var builder = new HubConnectionBuilder().WithUrl(new Uri(BaseAddress, "/rocket"));
        if (protocol == "msgpack")
        {
            builder.AddMessagePackProtocol();
        }

        return builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
