using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Rocket.JsonPatch;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Live;

namespace Rocket.Postgres.Tests;

/// <summary>A table followed through logical replication: every committed change, whoever wrote it, as one event.</summary>
public sealed class StreamingTests : IAsyncLifetime
{
    private PostgresProcess _postgres = null!;

    public async Task InitializeAsync() => _postgres = await PostgresProcess.StartAsync();

    public async Task DisposeAsync() => await _postgres.DisposeAsync();

    private async Task<string> NewTableAsync(string columns = "id text primary key, title text, done boolean")
    {
        var table = "t" + Guid.NewGuid().ToString("N")[..10];
        await _postgres.ExecuteAsync($"CREATE TABLE {table} ({columns})");
        return table;
    }

    [Fact]
    public async Task PlainSql_ReachesSseWebSocketAndSignalR_AsAddReplaceRemove()
    {
        var table = await NewTableAsync();
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('a', 'first', false)");
        await using var node = await PostgresNode.StartAsync(_postgres, table);
        await using var sse = await node.OpenSseAsync();
        await using var ws = await node.OpenWebSocketAsync();
        await using var signalR = await node.OpenSignalRAsync();
        var streams = new IPatchFeed[] { sse, ws, signalR };
        foreach (var stream in streams)
        {
            var reset = await stream.NextPatchAsync();
            Assert.Equal("""[{"op":"replace","path":"","value":{"todos":{"a":{"id":"a","title":"first","done":false}}}}]""", reset.Patch);
        }

        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('b', 'second', null)");
        await _postgres.ExecuteAsync($"UPDATE {table} SET done = true WHERE id = 'a'");
        await _postgres.ExecuteAsync($"DELETE FROM {table} WHERE id = 'b'");
        var expected = new[]
        {
            """[{"op":"add","path":"/todos/b","value":{"id":"b","title":"second","done":null}}]""",
            """[{"op":"replace","path":"/todos/a","value":{"id":"a","title":"first","done":true}}]""",
            """[{"op":"remove","path":"/todos/b"}]""",
        };
        foreach (var stream in streams)
        {
            var cursors = new List<string>();
            foreach (var patch in expected)
            {
                var item = await stream.NextPatchAsync();
                Assert.Equal(patch, item.Patch);
                cursors.Add(item.Id);
            }

            // One event per transaction, consecutive cursors of one epoch.
            var parsed = cursors.Select(c => Assert.IsType<Cursor>(Cursor.TryParse(c, out var cursor) ? cursor : (object?)null)).ToList();
            Assert.All(parsed, c => Assert.Equal(parsed[0].Epoch, c.Epoch));
            Assert.Equal([parsed[0].Sequence, parsed[0].Sequence + 1, parsed[0].Sequence + 2], parsed.Select(c => c.Sequence));
        }

        var (body, cursor2) = await node.GetKeyedAsync();
        Assert.Equal("""{"todos":{"a":{"id":"a","title":"first","done":true}}}""", body);
        Assert.EndsWith(".3", cursor2, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoTables_TwoCollections_OneApp()
    {
        var first = await NewTableAsync();
        var second = await NewTableAsync("id text primary key, body jsonb, n numeric");
        await _postgres.ExecuteAsync($"INSERT INTO {first} VALUES ('a', 'one', true); INSERT INTO {second} VALUES ('b', '{{\"x\": [1, 2]}}', 1.50)");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddRocket()
            .AddPostgresCollection("todos", o => { o.ConnectionString = _postgres.ConnectionString; o.Table = first; o.SlotPrefix = "rocket_" + first; o.Publication = "rocket_" + first; })
            .AddPostgresCollection("notes", o => { o.ConnectionString = _postgres.ConnectionString; o.Table = second; o.SlotPrefix = "rocket_" + second; o.Publication = "rocket_" + second; })
            .AddSseTransport();
        await using var app = builder.Build();
        app.MapRocketCollection("todos");
        app.MapRocketCollection("notes");
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single() + "/") };
        Assert.Equal("""{"todos":[{"id":"a","title":"one","done":true}]}""", await client.GetStringAsync("todos"));
        Assert.Equal("""{"notes":[{"id":"b","body":{"x":[1,2]},"n":1.50}]}""", await client.GetStringAsync("notes"));
        await app.StopAsync();
    }

    [Fact]
    public async Task MultiRowTransaction_IsOneEvent()
    {
        var table = await NewTableAsync();
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('x', 'old', false)");
        await using var node = await PostgresNode.StartAsync(_postgres, table);
        await using var sse = await node.OpenSseAsync();
        await sse.NextPatchAsync();

        await _postgres.ExecuteAsync($"BEGIN; INSERT INTO {table} VALUES ('y', 'one', false), ('z', 'two', true); UPDATE {table} SET title = 'new' WHERE id = 'x'; DELETE FROM {table} WHERE id = 'y'; COMMIT;");
        var item = await sse.NextPatchAsync();
        Assert.Equal(
            """[{"op":"add","path":"/todos/y","value":{"id":"y","title":"one","done":false}},{"op":"add","path":"/todos/z","value":{"id":"z","title":"two","done":true}},{"op":"replace","path":"/todos/x","value":{"id":"x","title":"new","done":false}},{"op":"remove","path":"/todos/y"}]""",
            item.Patch);
        var (body, cursor) = await node.GetKeyedAsync();
        Assert.Equal(item.Id, cursor);
        Assert.Equal("""{"todos":{"x":{"id":"x","title":"new","done":false},"z":{"id":"z","title":"two","done":true}}}""", body);
    }

    [Fact]
    public async Task TableWithoutPrimaryKey_IsRefusedAtStartup_WithTheReason()
    {
        var table = await NewTableAsync("id text, title text");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresNode.StartAsync(_postgres, table));
        Assert.Contains("has no primary key", error.Message, StringComparison.Ordinal);
        Assert.Contains($"ALTER TABLE public.{table} ADD PRIMARY KEY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnchangedToastedValue_KeepsThePreviousValue()
    {
        var table = await NewTableAsync("id text primary key, body text, n integer");

        // Random text does not compress, so 100 kB of it is stored out of line; an update that does not touch it leaves
        // it out of the WAL (REPLICA IDENTITY DEFAULT).
        var big = string.Concat(Enumerable.Range(0, 3000).Select(_ => Guid.NewGuid().ToString("N")));
        await using var node = await PostgresNode.StartAsync(_postgres, table);
        await using var sse = await node.OpenSseAsync();
        await sse.NextPatchAsync();
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES ('r', '{big}', 1)");
        await sse.NextPatchAsync();
        await _postgres.ExecuteAsync($"UPDATE {table} SET n = 2 WHERE id = 'r'");
        var update = await sse.NextPatchAsync();
        var value = JsonNode.Parse(update.Patch)![0]!["value"]!;
        Assert.Equal(2, (int)value["n"]!);
        Assert.Equal(big, (string)value["body"]!);
    }

    [Fact]
    public async Task RestWrites_GoToTheTable_AndArriveThroughReplication()
    {
        var table = await NewTableAsync();
        await using var node = await PostgresNode.StartAsync(_postgres, table);
        await using var sse = await node.OpenSseAsync();
        await sse.NextPatchAsync();

        using var post = await node.Client.PostAsync("todos", new StringContent("""{"title":"from rest","done":false}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        var id = JsonElement.Parse(await post.Content.ReadAsStringAsync()).GetProperty("id").GetString()!;
        var added = await sse.NextPatchAsync();
        Assert.Equal(post.Headers.GetValues("Last-Event-ID").Single(), added.Id);
        Assert.Equal($$$"""[{"op":"add","path":"/todos/{{{id}}}","value":{"id":"{{{id}}}","title":"from rest","done":false}}]""", added.Patch);
        Assert.Equal("from rest", await _postgres.ScalarAsync<string>($"SELECT title FROM {table} WHERE id = '{id}'"));

        // If-Match: the ETag of the record as read; a change in between (by SQL) makes it stale.
        using var get = await node.Client.GetAsync($"todos/{id}");
        var etag = get.Headers.ETag!.Tag;
        await _postgres.ExecuteAsync($"UPDATE {table} SET done = true WHERE id = '{id}'");
        await sse.NextPatchAsync();
        using var stale = new HttpRequestMessage(HttpMethod.Put, $"todos/{id}") { Content = new StringContent("""{"title":"stale","done":false}""", Encoding.UTF8, "application/json") };
        stale.Headers.TryAddWithoutValidation("If-Match", etag);
        using var staleResponse = await node.Client.SendAsync(stale);
        Assert.Equal(HttpStatusCode.PreconditionFailed, staleResponse.StatusCode);
        Assert.Equal("from rest", await _postgres.ScalarAsync<string>($"SELECT title FROM {table} WHERE id = '{id}'"));

        // A patch whose test fails is 409 and changes nothing; one whose test holds is applied to the row.
        using var failing = new HttpRequestMessage(HttpMethod.Patch, $"todos/{id}") { Content = new StringContent("""[{"op":"test","path":"/done","value":false},{"op":"replace","path":"/title","value":"no"}]""", Encoding.UTF8, "application/json-patch+json") };
        using var failingResponse = await node.Client.SendAsync(failing);
        Assert.Equal(HttpStatusCode.Conflict, failingResponse.StatusCode);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"todos/{id}") { Content = new StringContent("""[{"op":"test","path":"/done","value":true},{"op":"replace","path":"/title","value":"patched"}]""", Encoding.UTF8, "application/json-patch+json") };
        using var patchResponse = await node.Client.SendAsync(patch);
        Assert.Equal(HttpStatusCode.OK, patchResponse.StatusCode);
        var patched = await sse.NextPatchAsync();
        Assert.Equal(patchResponse.Headers.GetValues("Last-Event-ID").Single(), patched.Id);
        Assert.Equal($$$"""[{"op":"replace","path":"/todos/{{{id}}}","value":{"id":"{{{id}}}","title":"patched","done":true}}]""", patched.Patch);
        Assert.Equal("patched", await _postgres.ScalarAsync<string>($"SELECT title FROM {table} WHERE id = '{id}'"));

        // A current If-Match succeeds: PUT replaces the row.
        using var current = await node.Client.GetAsync($"todos/{id}");
        using var put = new HttpRequestMessage(HttpMethod.Put, $"todos/{id}") { Content = new StringContent("""{"title":"put","done":false}""", Encoding.UTF8, "application/json") };
        put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.Tag);
        using var putResponse = await node.Client.SendAsync(put);
        Assert.Equal(HttpStatusCode.OK, putResponse.StatusCode);
        Assert.Equal($$$"""[{"op":"replace","path":"/todos/{{{id}}}","value":{"id":"{{{id}}}","title":"put","done":false}}]""", (await sse.NextPatchAsync()).Patch);

        using var delete = await node.Client.DeleteAsync($"todos/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal($$"""[{"op":"remove","path":"/todos/{{id}}"}]""", (await sse.NextPatchAsync()).Patch);
        Assert.Equal(0L, await _postgres.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task RefusedInput_NeverReachesTheDatabase()
    {
        var table = await NewTableAsync("id text primary key, title text not null, done boolean");
        await using var node = await PostgresNode.StartAsync(_postgres, table);
        foreach (var body in new[] { """{"title":"x","colour":"red"}""", """{"title":"x","done":"yes"}""", """{"done":true}""", """{"title":42}""" })
        {
            using var response = await node.Client.PostAsync("todos", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        }

        Assert.Equal(0L, await _postgres.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.Equal(0L, node.Live.Cursor.Sequence);
    }

    [Fact]
    public async Task CompositePrimaryKey_TheIdIsTheKeyColumnsJoined_WritesFindTheRow()
    {
        var table = await NewTableAsync("org integer, code text, title text, primary key (org, code)");
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES (7, 'a,b\\c', 'first'), (7, 'x', 'second')");
        await using var node = await PostgresNode.StartAsync(_postgres, table);

        // The id joins the key's texts with ',' and escapes ',' and '\' with '\'; the key columns are members too.
        var (body, _) = await node.GetKeyedAsync();
        Assert.Equal("""{"todos":{"7,a\\,b\\\\c":{"id":"7,a\\,b\\\\c","org":7,"code":"a,b\\c","title":"first"},"7,x":{"id":"7,x","org":7,"code":"x","title":"second"}}}""", body);
        await using var sse = await node.OpenSseAsync();
        await sse.NextPatchAsync();
        await _postgres.ExecuteAsync($"INSERT INTO {table} VALUES (8, 'y', 'third')");
        Assert.Equal("""[{"op":"add","path":"/todos/8,y","value":{"id":"8,y","org":8,"code":"y","title":"third"}}]""", (await sse.NextPatchAsync()).Patch);
        await _postgres.ExecuteAsync($"UPDATE {table} SET code = 'z' WHERE org = 8");
        Assert.Equal("""[{"op":"remove","path":"/todos/8,y"},{"op":"add","path":"/todos/8,z","value":{"id":"8,z","org":8,"code":"z","title":"third"}}]""", (await sse.NextPatchAsync()).Patch);
        await _postgres.ExecuteAsync($"DELETE FROM {table} WHERE org = 7 AND code = 'x'");
        Assert.Equal("""[{"op":"remove","path":"/todos/7,x"}]""", (await sse.NextPatchAsync()).Patch);

        // Writes address the row by the id's parts.
        var escaped = "todos/" + Uri.EscapeDataString("7,a\\,b\\\\c");
        using var patch = new HttpRequestMessage(HttpMethod.Patch, escaped) { Content = new StringContent("""[{"op":"replace","path":"/title","value":"patched"}]""", Encoding.UTF8, "application/json-patch+json") };
        using var patchResponse = await node.Client.SendAsync(patch);
        Assert.Equal(HttpStatusCode.OK, patchResponse.StatusCode);
        Assert.Equal("patched", await _postgres.ScalarAsync<string>($"SELECT title FROM {table} WHERE org = 7 AND code = 'a,b\\c'"));
        Assert.Equal("""[{"op":"replace","path":"/todos/7,a\\,b\\\\c","value":{"id":"7,a\\,b\\\\c","org":7,"code":"a,b\\c","title":"patched"}}]""", (await sse.NextPatchAsync()).Patch);

        // A member of the key that disagrees with the id, and a POST (the scaffold assigns a one-part id), are refused
        // before the database sees them; a malformed id names no row.
        using var moved = await node.Client.PutAsync(escaped, new StringContent("""{"org":9,"title":"moved"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, moved.StatusCode);
        using var post = await node.Client.PostAsync("todos", new StringContent("""{"org":1,"code":"n","title":"new"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        using var malformed = await node.Client.DeleteAsync("todos/" + Uri.EscapeDataString("7,a\\"));
        Assert.Equal(HttpStatusCode.NotFound, malformed.StatusCode);
        Assert.Equal(2L, await _postgres.ScalarAsync<long>($"SELECT count(*) FROM {table}"));

        using var delete = await node.Client.DeleteAsync("todos/8,z");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal("""[{"op":"remove","path":"/todos/8,z"}]""", (await sse.NextPatchAsync()).Patch);
    }
}
