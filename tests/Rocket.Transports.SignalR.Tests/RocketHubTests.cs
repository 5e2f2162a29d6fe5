using System;
using System.Diagnostics;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Rocket.Live;

namespace Rocket.Transports.SignalR.Tests;

/// <summary>The hub end to end: a real Kestrel server and the real .NET client, over both hub protocols.</summary>
public sealed class RocketHubTests
{
    public static TheoryData<string> Protocols => new() { "json", "msgpack" };

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Subscribe_NoCursor_StartsWithResetOfTheKeyedDocument(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        server.Messages.Create("1", """{"id":"1","text":"hi"}"""u8);
        await using var connection = server.CreateConnection(protocol);
        await connection.StartAsync();
        await using var stream = new HubStream(connection, "messages", null);

        var reset = await stream.NextAsync();

        Assert.True(reset.Reset);
        Assert.Equal("messages", reset.Collection);
        Assert.Equal(server.Messages.Cursor.ToString(), reset.Id);
        Assert.Equal("""[{"op":"replace","path":"","value":{"messages":{"1":{"id":"1","text":"hi"}}}}]""", Encoding.UTF8.GetString(reset.Patch.Span));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Subscribe_RestChanges_ArriveInOrderWithIncreasingCursors(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        await using var connection = server.CreateConnection(protocol);
        await connection.StartAsync();
        await using var stream = new HubStream(connection, "messages", null);
        var reset = await stream.NextAsync();

        var created = await server.Http.PostAsJsonAsync("/messages", new { text = "hello" });
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        (await server.Http.PutAsJsonAsync($"/messages/{id}", new { text = "edited" })).EnsureSuccessStatusCode();
        using (var patch = new StringContent("""[{"op":"add","path":"/done","value":true}]""", Encoding.UTF8, "application/json-patch+json"))
        {
            (await server.Http.PatchAsync($"/messages/{id}", patch)).EnsureSuccessStatusCode();
        }

        (await server.Http.DeleteAsync($"/messages/{id}")).EnsureSuccessStatusCode();

        var previous = Parse(reset.Id);
        string[] expected = ["add", "replace", "replace", "remove"];
        foreach (var op in expected)
        {
            var item = await stream.NextAsync();
            Assert.False(item.Reset);
            var cursor = Parse(item.Id);
            Assert.Equal(previous.Epoch, cursor.Epoch);
            Assert.Equal(previous.Sequence + 1, cursor.Sequence);
            previous = cursor;
            var first = HubStream.Ops(item)[0];
            Assert.Equal(op, first.GetProperty("op").GetString());
            Assert.Equal($"/messages/{id}", first.GetProperty("path").GetString());
        }

        Assert.Equal(server.Messages.Cursor, previous);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Subscribe_CursorInHistory_YieldsExactlyTheMissedEventsThenLive(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        server.Messages.Create("1", """{"id":"1"}"""u8);
        var response = await server.Http.GetAsync("/messages");
        var cursor = Assert.Single(response.Headers.GetValues("Last-Event-ID"));
        var missed = new[] { server.Messages.Create("2", """{"id":"2"}"""u8), server.Messages.Update("1", """{"id":"1","v":2}"""u8), server.Messages.Delete("2") };
        await using var connection = server.CreateConnection(protocol);
        await connection.StartAsync();
        await using var stream = new HubStream(connection, "messages", cursor);

        foreach (var expected in missed)
        {
            var item = await stream.NextAsync();
            Assert.False(item.Reset);
            Assert.Equal(expected.ToString(), item.Id);
        }

        var live = server.Messages.Create("3", """{"id":"3"}"""u8);
        var next = await stream.NextAsync();
        Assert.Equal(live.ToString(), next.Id);
        Assert.Equal("""[{"op":"add","path":"/messages/3","value":{"id":"3"}}]""", Encoding.UTF8.GetString(next.Patch.Span));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Subscribe_CursorOfAnotherEpoch_StartsWithReset(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        server.Messages.Create("1", """{"id":"1"}"""u8);
        var other = new Cursor(server.Messages.Epoch ^ 0xffffffffu, 1);
        await using var connection = server.CreateConnection(protocol);
        await connection.StartAsync();
        await using var stream = new HubStream(connection, "messages", other.ToString());

        var first = await stream.NextAsync();

        Assert.True(first.Reset);
        Assert.Equal(server.Messages.Cursor.ToString(), first.Id);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Subscribe_PastTheSubscriberLimit_FailsWithTheHubErrorAndTheOtherStaysLive(string protocol)
    {
        await using var server = await TestServer.StartAsync(static o => o.MaxSubscribers = 1);
        await using var connection = server.CreateConnection(protocol);
        await connection.StartAsync();
        await using var admitted = new HubStream(connection, "messages", null);
        Assert.True((await admitted.NextAsync()).Reset);
        await using var other = server.CreateConnection(protocol);
        await other.StartAsync();
        await using var refused = new HubStream(other, "messages", null);

        var error = await Assert.ThrowsAsync<HubException>(refused.NextAsync);

        Assert.Contains("SubscriberLimit: ", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Messages.SubscriberCount);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Subscribe_UnknownCollection_FailsWithAClearError(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        await using var connection = server.CreateConnection(protocol);
        await connection.StartAsync();
        await using var stream = new HubStream(connection, "nope", null);

        var error = await Assert.ThrowsAsync<HubException>(stream.NextAsync);

        Assert.Contains("Unknown collection 'nope'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Messages.SubscriberCount);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Disconnect_EndsTheSubscription(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        var connection = server.CreateConnection(protocol);
        await connection.StartAsync();
        var stream = new HubStream(connection, "messages", null);
        await stream.NextAsync();
        Assert.Equal(1, server.Messages.SubscriberCount);

        await connection.DisposeAsync();

        await WaitUntilAsync(() => server.Messages.SubscriberCount == 0);
        await stream.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task StreamCanceled_EndsTheSubscriptionAndKeepsTheConnection(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        await using var connection = server.CreateConnection(protocol);
        await connection.StartAsync();
        var stream = new HubStream(connection, "messages", null);
        await stream.NextAsync();

        await stream.DisposeAsync();

        await WaitUntilAsync(() => server.Messages.SubscriberCount == 0);
        Assert.Equal(HubConnectionState.Connected, connection.State);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task CollectionShutsDown_StreamEndsWithTheReason(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        await using var connection = server.CreateConnection(protocol);
        await connection.StartAsync();
        await using var stream = new HubStream(connection, "messages", null);
        await stream.NextAsync();

        server.Messages.Dispose();

        var error = await Assert.ThrowsAsync<HubException>(stream.NextAsync);
        Assert.Contains("ShuttingDown: the collection is shutting down", error.Message, StringComparison.Ordinal);
    }

    private static Cursor Parse(string text)
    {
        Assert.True(Cursor.TryParse(text, out var cursor), text);
        return cursor;
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < HubStream.Timeout, "timed out waiting for the condition");
            await Task.Delay(10);
        }
    }
}
