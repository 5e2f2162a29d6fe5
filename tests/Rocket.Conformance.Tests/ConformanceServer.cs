using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Live;

namespace Rocket.Conformance.Tests;

/// <summary>A real Kestrel server on 127.0.0.1:0 with one collection, <c>messages</c>, and the transport under test.</summary>
public sealed class ConformanceServer : IAsyncDisposable
{
    private ConformanceServer(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Collection = app.Services.GetRequiredService<CollectionRegistry>().GetCollection("messages");
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public LiveCollection Collection { get; }

    public static async Task<ConformanceServer> StartAsync(ITransportUnderTest transport, Action<LiveCollectionOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var rocket = builder.Services.AddRocket().AddCollection("messages", configure);
        transport.Register(rocket);
        var app = builder.Build();
        transport.Map(app);
        app.MapRocketCollection("messages");
        await app.StartAsync();
        return new ConformanceServer(app, new Uri(app.Urls.Single()));
    }

    public async ValueTask DisposeAsync()
    {
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
