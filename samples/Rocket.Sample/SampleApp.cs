using System;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Rocket.Sample;

/// <summary>
/// The sample server: a <c>messages</c> collection on the REST scaffold and the in-memory store, every transport that
/// exists, and a page at <c>/</c> that shows the list live. Tests start it with <c>Create(["--urls", "http://127.0.0.1:0"])</c>.
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

        builder.Services.AddRocket()
            .AddCollection("messages")
            .AddSseTransport()
            .AddWebSocketTransport()
            .AddSignalRTransport();

        var app = builder.Build();
        app.UseWebSockets();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapRocketCollection("messages");
        app.MapRocketHub();
        return app;
    }
}
