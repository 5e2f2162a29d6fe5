using System;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Rocket.Postgres.Tests;

/// <summary>
/// Wrong options of a table-backed collection stop the app when it starts, before it connects (no database is
/// needed), naming the collection and the option.
/// </summary>
public sealed class OptionsValidationTests
{
    [Fact]
    public async Task Start_NoConnectionStringAndBackoffInverted_FailsNamingCollectionAndOptions()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddRocket().AddPostgresCollection("todos", static o =>
        {
            o.ReconnectDelay = TimeSpan.FromSeconds(10);
            o.MaxReconnectDelay = TimeSpan.FromSeconds(1);
        });
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("PostgresCollectionOptions[\"todos\"].ConnectionString is not set", error.Message, StringComparison.Ordinal);
        Assert.Contains("PostgresCollectionOptions[\"todos\"].MaxReconnectDelay is 00:00:01; it must be at least ReconnectDelay", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_NamesDefaultFromTheCollection_TheAppsValuesWin()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddRocket()
            .AddPostgresCollection("todos", static o => o.ConnectionString = "Host=127.0.0.1")
            .AddPostgresCollection("tasks", static o =>
            {
                o.ConnectionString = "Host=127.0.0.1";
                o.Table = "app.task_rows";
                o.Publication = "tasks_pub";
            });
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<PostgresCollectionOptions>>();

        var todos = options.Get("todos");
        Assert.Equal(("todos", "rocket_todos", "rocket_todos"), (todos.Table, todos.Publication, todos.SlotPrefix));
        var tasks = options.Get("tasks");
        Assert.Equal(("app.task_rows", "tasks_pub", "rocket_tasks"), (tasks.Table, tasks.Publication, tasks.SlotPrefix));
    }
}
