using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Rocket.Transports.SignalR.Tests;

/// <summary>
/// The transport composes with the app's own SignalR: what the app configured on <c>AddSignalR(...)</c> (hub options,
/// protocols) is kept, and the transport's configure delegate runs exactly once.
/// </summary>
public sealed class RegistrationTests
{
    [Fact]
    public async Task AddRocketTransport_OnTheAppsSignalR_KeepsItsHubOptionsAndProtocolRunsDelegateOnce()
    {
        var runs = 0;
        var builder = CreateBuilder();
        builder.Services.AddRocket().AddCollection("messages");
        builder.Services.AddSignalR(static o => o.MaximumReceiveMessageSize = 12_345)
            .AddMessagePackProtocol()
            .AddRocketTransport(o =>
            {
                runs++;
                o.AddMessagePackProtocol = false;
            });

        await using var app = builder.Build();
        app.MapRocketHub();
        await app.StartAsync();

        Assert.Equal(1, runs);
        Assert.Equal(12_345, app.Services.GetRequiredService<IOptions<HubOptions>>().Value.MaximumReceiveMessageSize);
        Assert.Contains("messagepack", app.Services.GetServices<IHubProtocol>().Select(static p => p.Name));

        // The app's MessagePack protocol serves Rocket's hub: a subscribe gets its reset.
        await using var client = await ConnectAsync(app, messagePack: true);
        await client.SubscribeAsync("messages", null);
        Assert.True((await client.NextPatchAsync()).Reset);
        await app.StopAsync();
    }

    [Fact]
    public async Task AddSignalRTransport_AfterTheAppsAddSignalR_KeepsItsHubOptionsRunsDelegateOnce()
    {
        var runs = 0;
        var builder = CreateBuilder();
        builder.Services.AddSignalR(static o => o.KeepAliveInterval = TimeSpan.FromSeconds(7));
        builder.Services.AddRocket().AddCollection("messages").AddSignalRTransport(_ => runs++);

        await using var app = builder.Build();
        app.MapRocketHub();
        await app.StartAsync();

        Assert.Equal(1, runs);
        Assert.Equal(TimeSpan.FromSeconds(7), app.Services.GetRequiredService<IOptions<HubOptions>>().Value.KeepAliveInterval);
        Assert.Equal(1, app.Services.GetServices<IHubProtocol>().Count(static p => p.Name == "messagepack"));
        await using var client = await ConnectAsync(app, messagePack: false);
        await client.SubscribeAsync("messages", null);
        Assert.True((await client.NextPatchAsync()).Reset);
        await app.StopAsync();
    }

    [Fact]
    public async Task AddSignalRTransport_MessagePackOff_OnlyJson()
    {
        var builder = CreateBuilder();
        builder.Services.AddRocket().AddCollection("messages").AddSignalRTransport(static o => o.AddMessagePackProtocol = false);

        await using var app = builder.Build();

        Assert.DoesNotContain("messagepack", app.Services.GetServices<IHubProtocol>().Select(static p => p.Name));
    }

    private static WebApplicationBuilder CreateBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        return builder;
    }

    private static async Task<HubClient> ConnectAsync(WebApplication app, bool messagePack)
    {
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var connection = new HubConnectionBuilder().WithUrl(new Uri(address, "/rocket"));
        if (messagePack)
        {
            connection.AddMessagePackProtocol();
        }

        var client = new HubClient(connection.Build());
        await client.Connection.StartAsync();
        return client;
    }
}
