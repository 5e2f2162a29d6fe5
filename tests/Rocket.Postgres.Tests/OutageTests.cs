using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;

namespace Rocket.Postgres.Tests;

/// <summary>The database going away and coming back, on a cluster of this class's own (it is stopped mid-test).</summary>
public sealed class OutageTests : IAsyncLifetime
{
    private PostgresProcess _postgres = null!;

    public async Task InitializeAsync() => _postgres = await PostgresProcess.StartAsync();

    public async Task DisposeAsync() => await _postgres.DisposeAsync();

    [Fact]
    public async Task DatabaseDown_WritesAre503_StreamsStayOpen_ReplicationReconnects()
    {
        var table = "t" + Guid.NewGuid().ToString("N")[..10];
        await _postgres.ExecuteAsync($"CREATE TABLE {table} (id text primary key, title text, done boolean); INSERT INTO {table} VALUES ('a', 'one', false);");
        await using var node = await PostgresNode.StartAsync(_postgres, table);
        await using var sse = await node.OpenSseAsync();
        await sse.NextPatchAsync();

        await _postgres.StopAsync();
        using (var post = await node.Client.PostAsync("todos", new StringContent("""{"title":"lost?","done":false}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, post.StatusCode);
            Assert.Equal("application/problem+json", post.Content.Headers.ContentType!.MediaType);
            Assert.NotNull(post.Headers.RetryAfter);
        }

        using (var put = await node.Client.PutAsync("todos/a", new StringContent("""{"title":"x","done":true}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, put.StatusCode);
        }

        // Reads are served from the replica meanwhile.
        var (body, cursor) = await node.GetKeyedAsync();
        Assert.Equal("""{"todos":{"a":{"id":"a","title":"one","done":false}}}""", body);

        await _postgres.RestartAsync();

        // The stream stayed open (its next event is the change made after the database came back), and the app's
        // replication reconnected by itself.
        await _postgres.ExecuteAsync($"UPDATE {table} SET done = true WHERE id = 'a'");
        var next = await sse.NextPatchAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("""[{"op":"replace","path":"/todos/a","value":{"id":"a","title":"one","done":true}}]""", next.Patch);
        Assert.Equal(cursor.Split('.')[0], next.Id.Split('.')[0]);

        // And writes work again.
        using var again = await node.Client.PostAsync("todos", new StringContent("""{"title":"back","done":false}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Contains("\"title\":\"back\"", (await sse.NextPatchAsync()).Patch, StringComparison.Ordinal);
        Assert.Equal(2L, await _postgres.ScalarAsync<long>($"SELECT count(*) FROM {table}"));

        // Stopped again once the app has reconnected and nothing changed since: a server shutdown waits for its
        // replication connections to confirm everything they were sent, and the app does (StopAsync fails past 30 s).
        for (var i = 0; i < 2; i++)
        {
            await _postgres.StopAsync();
            await _postgres.RestartAsync();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!await _postgres.ScalarAsync<bool>($"SELECT coalesce(bool_or(active), false) FROM pg_replication_slots WHERE slot_name LIKE 'rocket_{table}%'"))
            {
                Assert.True(DateTime.UtcNow < deadline, "the app did not reconnect");
                await Task.Delay(20);
            }
        }

        await _postgres.ExecuteAsync($"DELETE FROM {table} WHERE id = 'a'");
        Assert.Equal("""[{"op":"remove","path":"/todos/a"}]""", (await sse.NextPatchAsync(TimeSpan.FromSeconds(30))).Patch);
    }
}
