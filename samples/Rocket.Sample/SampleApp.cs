using System;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Redis;
using Rocket.Sample.Todos;

namespace Rocket.Sample;

/// <summary>
/// The sample server: a <c>messages</c> collection on the REST scaffold, every transport that exists, and a page at
/// <c>/</c> that shows the list live with Rocket's JavaScript client (served at <c>/rocket/client.js</c>) over the
/// transport its <c>?transport=</c> names. The collection is in memory, or in Redis when the connection string <c>Redis</c> is
/// set (<c>ConnectionStrings__Redis=127.0.0.1:6379</c>), so several instances serve one collection. With the connection
/// string <c>Todos</c> (<c>ConnectionStrings__Todos="Data Source=todos.db"</c>) it also serves <c>/todos</c>, a collection
/// kept in a SQLite table through EF Core; with the connection string <c>Postgres</c>, which takes precedence,
/// <c>/todos</c> is the PostgreSQL table <c>todos</c> followed live through logical replication. Tests start it with <c>Create(["--urls", "http://127.0.0.1:0"])</c>.
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
        // Development-only sign-in and the guarded families (SampleSignIn.cs).
        builder.Services.AddSampleSignIn(rocket);

        // Health at /health, the OpenAPI document at /openapi/v1.json, metrics on the "Rocket" meter (docs/observability.md).
        var health = builder.Services.AddHealthChecks().AddRocket();
        builder.Services.AddOpenApi();
        if (builder.Configuration.GetConnectionString("Redis") is { Length: > 0 } redis)
        {
            rocket.AddRedis(redis);
            health.AddRocketRedis();
        }

        var postgresTodos = rocket.AddPostgresTodos(builder.Configuration);
        var todos = !postgresTodos && builder.Configuration.GetConnectionString("Todos") is { Length: > 0 };
        if (todos)
        {
            builder.Services.AddDbContext<TodoDbContext>(o => o.UseSqlite(builder.Configuration.GetConnectionString("Todos")));
            rocket.AddCollection<TodoStore>("todos");
        }

        var app = builder.Build();
        if (todos)
        {
            // The table is created if missing, before the collection is loaded from it when the host starts.
            using var scope = app.Services.CreateScope();
            scope.ServiceProvider.GetRequiredService<TodoDbContext>().Database.EnsureCreated();
        }

        app.UseWebSockets();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapRocketCollection("messages");
        app.MapSampleSignIn();
        if (todos || postgresTodos)
        {
            app.MapRocketCollection("todos");
        }

        app.MapRocketHub();
        app.MapRocketWebSocket();
        app.MapHealthChecks("/health");
        app.MapOpenApi();
        // The JavaScript client the page imports, at /rocket/client.js.
        app.MapRocketClientScript();
        return app;
    }
}
