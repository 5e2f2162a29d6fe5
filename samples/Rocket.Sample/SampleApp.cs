using System;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Redis;

namespace Rocket.Sample;

/// <summary>
/// The sample server: a <c>messages</c> collection on the REST scaffold, every transport that exists, and a page at
/// <c>/</c> that shows the list live. The collection is in memory, or in Redis when the connection string <c>Redis</c> is
/// set (<c>ConnectionStrings__Redis=127.0.0.1:6379</c>), so several instances serve one collection. Tests start it with
/// <c>Create(["--urls", "http://127.0.0.1:0"])</c>.
/// </summary>
public static class SampleApp
{
    /// <summary>Builds the app (not started); <paramref name="args"/> are the usual host arguments, <c>--urls</c> included.</summary>
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        var rocket = builder.Services.AddRocket()
            .AddCollection("messages")
            .AddSseTransport()
            .AddWebSocketTransport()
            .AddSignalRTransport();
        if (builder.Configuration.GetConnectionString("Redis") is { Length: > 0 } redis)
        {
            rocket.AddRedis(redis);
        }

        var app = builder.Build();
        app.UseWebSockets();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapRocketCollection("messages");
        app.MapRocketHub();
        return app;
    }
}
