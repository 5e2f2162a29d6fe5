using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Sample;
using Rocket.Sample.Todos;

namespace Rocket.Sample.Tests;

/// <summary>
/// A collection kept in the app's own database (the sample's <c>todos</c>, SQLite through a scoped EF Core store):
/// writes are committed by the store and published as stored, in commit order; the collection loads from the table at
/// startup, empty or not; refusals change nothing.
/// </summary>
public sealed class TodoStoreTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("rocket-todos-").FullName;

    private string Database => Path.Combine(_folder, "todos.db");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    // Development turns on the container's scope validation: a scoped store captured by a singleton fails at startup.
    private async Task<(WebApplication App, HttpClient Client)> StartAsync()
    {
        var app = SampleApp.Create(["--urls", "http://127.0.0.1:0", "--environment", "Development", $"--ConnectionStrings:Todos=Data Source={Database}", "--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync();
        return (app, new HttpClient { BaseAddress = new Uri(app.Urls.Single() + "/"), Timeout = TimeSpan.FromSeconds(30) });
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<Todo[]> RowsAsync()
    {
        var options = new DbContextOptionsBuilder<TodoDbContext>().UseSqlite($"Data Source={Database}").Options;
        await using var db = new TodoDbContext(options);
        return await db.Todos.AsNoTracking().OrderBy(static t => t.Id).ToArrayAsync();
    }

    [Fact]
    public async Task Post_CommittedByTheStoreAndPublishedAsStored()
    {
        var (app, client) = await StartAsync();
        await using var _ = app;
        using var __ = client;
        using var request = new HttpRequestMessage(HttpMethod.Get, "todos");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var stream = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = SseParser.Create(await stream.Content.ReadAsStreamAsync()).EnumerateAsync().GetAsyncEnumerator();
        Assert.True(await events.MoveNextAsync()); // the reset

        using var post = await client.PostAsync("todos", Json("""{"title":"write docs","done":false,"ignored":1}"""));

        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        var body = await post.Content.ReadAsStringAsync();
        var id = JsonElement.Parse(body).GetProperty("id").GetString()!;
        Assert.Equal($$"""{"id":"{{id}}","title":"write docs","done":false}""", body);
        var row = Assert.Single(await RowsAsync());
        Assert.Equal(("write docs", false), (row.Title, row.Done));
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(post.Headers.GetValues("Last-Event-ID").Single(), events.Current.EventId);
        Assert.Equal($$"""[{"op":"add","path":"/todos/{{id}}","value":{{body}}}]""", events.Current.Data);
        await events.DisposeAsync();
    }

    [Fact]
    public async Task Restart_CollectionLoadedFromTheTable_EmptyTableToo()
    {
        string[] ids;
        var (first, client) = await StartAsync();
        await using (first)
        using (client)
        {
            // Starting on an empty database works: an empty collection.
            Assert.Equal("""{"todos":[]}""", await client.GetStringAsync("todos"));
            ids = new string[3];
            for (var i = 0; i < 3; i++)
            {
                using var post = await client.PostAsync("todos", Json($$"""{"title":"t{{i}}","done":{{(i == 1 ? "true" : "false")}}}"""));
                ids[i] = JsonElement.Parse(await post.Content.ReadAsStringAsync()).GetProperty("id").GetString()!;
            }
        }

        var (second, again) = await StartAsync();
        await using (second)
        using (again)
        {
            var list = JsonNode.Parse(await again.GetStringAsync("todos"))!["todos"]!.AsArray();
            Assert.Equal(ids.Order(StringComparer.Ordinal), list.Select(static t => t!["id"]!.GetValue<string>()));
            Assert.True(list.Single(t => t!["id"]!.GetValue<string>() == ids[1])!["done"]!.GetValue<bool>());
        }
    }

    [Fact]
    public async Task PatchPutDelete_GoThroughTheStore_IfMatchStale412()
    {
        var (app, client) = await StartAsync();
        await using var _ = app;
        using var __ = client;
        using var post = await client.PostAsync("todos", Json("""{"title":"a","done":false}"""));
        var id = JsonElement.Parse(await post.Content.ReadAsStringAsync()).GetProperty("id").GetString()!;
        var staleTag = post.Headers.ETag!.Tag;

        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"todos/{id}") { Content = new StringContent("""[{"op":"replace","path":"/done","value":true}]""", Encoding.UTF8) };
        patch.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json-patch+json");
        using (var patched = await client.SendAsync(patch))
        {
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
            Assert.True(Assert.Single(await RowsAsync()).Done);
        }

        using var stale = new HttpRequestMessage(HttpMethod.Put, $"todos/{id}") { Content = Json("""{"title":"b","done":false}""") };
        stale.Headers.TryAddWithoutValidation("If-Match", staleTag);
        using (var refused = await client.SendAsync(stale))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
            Assert.Equal("a", Assert.Single(await RowsAsync()).Title);
        }

        using var delete = await client.DeleteAsync($"todos/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Empty(await RowsAsync());
        Assert.Equal("""{"todos":[]}""", await client.GetStringAsync("todos"));
    }

    [Fact]
    public async Task StoreRefusesTheRecord_400AndNothingStoredOrPublished()
    {
        var (app, client) = await StartAsync();
        await using var _ = app;
        using var __ = client;
        using var before = await client.GetAsync("todos");
        var cursor = before.Headers.GetValues("Last-Event-ID").Single();

        using var post = await client.PostAsync("todos", Json("""{"title":5}"""));

        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Empty(await RowsAsync());
        using var after = await client.GetAsync("todos");
        Assert.Equal(cursor, after.Headers.GetValues("Last-Event-ID").Single());
    }

    [Fact]
    public async Task ConcurrentPosts_PublishedInCommitOrder_CollectionEqualsTable()
    {
        var (app, client) = await StartAsync();
        await using var _ = app;
        using var __ = client;

        var posts = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.PostAsync("todos", Json($$"""{"title":"t{{i}}","done":false}"""))));

        Assert.All(posts, static p => Assert.Equal(HttpStatusCode.Created, p.StatusCode));
        var cursors = posts.Select(static p => long.Parse(p.Headers.GetValues("Last-Event-ID").Single().Split('.')[1], System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();
        Assert.Equal(Enumerable.Range(1, 20).Select(static c => (long)c), cursors);
        var rows = await RowsAsync();
        var keyed = JsonNode.Parse(await client.GetStringAsync("todos?form=keyed"))!["todos"]!.AsObject();
        Assert.Equal(rows.Select(static r => r.Id).Order(StringComparer.Ordinal), keyed.Select(static m => m.Key).Order(StringComparer.Ordinal));
        foreach (var post in posts)
        {
            post.Dispose();
        }
    }
}
