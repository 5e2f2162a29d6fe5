using System;
using System.Diagnostics;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR;
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
        await using var client = await server.ConnectAsync(protocol);

        await client.SubscribeAsync("messages", null);
        var reset = await client.NextPatchAsync();

        Assert.True(reset.Reset);
        Assert.Equal("messages", reset.Collection);
        Assert.Equal(server.Messages.Cursor.ToString(), reset.Id);
        Assert.Equal("""[{"op":"replace","path":"","value":{"messages":{"1":{"id":"1","text":"hi"}}}}]""", reset.Patch);
        Assert.Equal(1, server.Messages.SubscriberCount);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Subscribe_LargeCollection_ResetAndLongEventsArriveInSlicesJoinedWhole_ShortOnesAsOneMessage(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        var text = new string('r', 50_000);
        for (var i = 0; i < 60; i++)
        {
            server.Messages.Create($"{i}", Encoding.UTF8.GetBytes($"{{\"id\":\"{i}\",\"text\":\"{text}\"}}"));
        }

        await using var client = await server.ConnectAsync(protocol);
        await client.SubscribeAsync("messages", null);
        var reset = await client.NextPatchAsync();
        server.Messages.Create("after", """{"id":"after"}"""u8);
        var add = await client.NextPatchAsync();
        var longText = new string('l', 200_000);
        server.Messages.Create("long", Encoding.UTF8.GetBytes($$"""{"id":"long","text":"{{longText}}"}"""));
        var longAdd = await client.NextPatchAsync();

        // The reset (3 MB) and the long event (200 KB) came in slices the client joined; the short one as one message.
        Assert.True(reset.Parts > 40, $"the reset came in {reset.Parts} messages");
        Assert.True(longAdd.Parts > 2, $"the long event came in {longAdd.Parts} messages");
        Assert.Equal(0, add.Parts);
        Assert.Equal(longText, longAdd.Ops[0].GetProperty("value").GetProperty("text").GetString());
        Assert.Equal(server.Messages.Cursor.ToString(), longAdd.Id);
        Assert.True(reset.Reset);
        var records = reset.Ops[0].GetProperty("value").GetProperty("messages").EnumerateObject().ToList();
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"{i}"), records.Select(r => r.Name));
        Assert.All(records, r => Assert.Equal(text, r.Value.GetProperty("text").GetString()));
        Assert.Equal("""[{"op":"add","path":"/messages/after","value":{"id":"after"}}]""", add.Patch);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Subscribe_RestChanges_ArriveInOrderWithIncreasingCursors(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync(protocol);
        await client.SubscribeAsync("messages", null);
        var reset = await client.NextPatchAsync();

        var created = await server.Http.PostAsJsonAsync("/messages", new { text = "hello" });
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        (await server.Http.PutAsJsonAsync($"/messages/{id}", new { text = "edited" })).EnsureSuccessStatusCode();
        using (var patch = new StringContent("""[{"op":"add","path":"/done","value":true}]""", Encoding.UTF8, "application/json-patch+json"))
        {
            (await server.Http.PatchAsync($"/messages/{id}", patch)).EnsureSuccessStatusCode();
        }

        (await server.Http.DeleteAsync($"/messages/{id}")).EnsureSuccessStatusCode();

        var previous = Parse(reset.Id!);
        string[] expected = ["add", "replace", "replace", "remove"];
        foreach (var op in expected)
        {
            var message = await client.NextPatchAsync();
            Assert.False(message.Reset);
            Assert.Equal("messages", message.Collection);
            var cursor = Parse(message.Id!);
            Assert.Equal(previous.Epoch, cursor.Epoch);
            Assert.Equal(previous.Sequence + 1, cursor.Sequence);
            previous = cursor;
            var first = message.Ops[0];
            Assert.Equal(op, first.GetProperty("op").GetString());
            Assert.Equal($"/messages/{id}", first.GetProperty("path").GetString());
        }

        Assert.Equal(server.Messages.Cursor, previous);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Burst_PendingEventsGoOutTogether_AndArriveCompleteInOrder(string protocol)
    {
        // Events created faster than one subscriber's writes: its pending events go out together (back to back, or joined
        // into one message once the connection pushes back), and the client still reads each one, in order.
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync(protocol);
        await client.SubscribeAsync("messages", null);
        var previous = Parse((await client.NextPatchAsync()).Id!);

        const int Count = 500;
        for (var i = 0; i < Count; i++)
        {
            server.Messages.Create(i.ToString(System.Globalization.CultureInfo.InvariantCulture), """{"text":"é \"quoted\" \u2028"}"""u8);
        }

        for (var i = 0; i < Count; i++)
        {
            var message = await client.NextPatchAsync();
            var cursor = Parse(message.Id!);
            Assert.Equal(previous.Sequence + 1, cursor.Sequence);
            Assert.Equal($"/messages/{i}", message.Ops[0].GetProperty("path").GetString());
            Assert.Equal("é \"quoted\" \u2028", message.Ops[0].GetProperty("value").GetProperty("text").GetString());
            previous = cursor;
        }
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
        await using var client = await server.ConnectAsync(protocol);

        await client.SubscribeAsync("messages", cursor);

        foreach (var expected in missed)
        {
            var message = await client.NextPatchAsync();
            Assert.False(message.Reset);
            Assert.Equal(expected.ToString(), message.Id);
        }

        var live = server.Messages.Create("3", """{"id":"3"}"""u8);
        var next = await client.NextPatchAsync();
        Assert.Equal(live.ToString(), next.Id);
        Assert.Equal("""[{"op":"add","path":"/messages/3","value":{"id":"3"}}]""", next.Patch);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Subscribe_CursorOfAnotherEpoch_StartsWithReset(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        server.Messages.Create("1", """{"id":"1"}"""u8);
        var other = new Cursor(server.Messages.Epoch ^ 0xffffffffu, 1);
        await using var client = await server.ConnectAsync(protocol);

        await client.SubscribeAsync("messages", other.ToString());
        var first = await client.NextPatchAsync();

        Assert.True(first.Reset);
        Assert.Equal(server.Messages.Cursor.ToString(), first.Id);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Subscribe_UnknownCollection_FailsWithNotFound(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync(protocol);

        var error = await Assert.ThrowsAsync<HubException>(() => client.SubscribeAsync("nope", null));

        Assert.StartsWith("NotFound: ", ServerMessage(error), StringComparison.Ordinal);
        Assert.Contains("'nope'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Messages.SubscriberCount);

        // The connection stays usable.
        await client.SubscribeAsync("messages", null);
        Assert.True((await client.NextPatchAsync()).Reset);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Subscribe_PastTheSubscriberLimit_FailsWithSubscriberLimitAndTheOtherStaysLive(string protocol)
    {
        await using var server = await TestServer.StartAsync(static o => o.MaxSubscribers = 1);
        await using var admitted = await server.ConnectAsync(protocol);
        await admitted.SubscribeAsync("messages", null);
        Assert.True((await admitted.NextPatchAsync()).Reset);
        await using var other = await server.ConnectAsync(protocol);

        var error = await Assert.ThrowsAsync<HubException>(() => other.SubscribeAsync("messages", null));

        Assert.StartsWith("SubscriberLimit: ", ServerMessage(error), StringComparison.Ordinal);
        Assert.Equal(1, server.Messages.SubscriberCount);
        var live = server.Messages.Create("1", """{"id":"1"}"""u8);
        Assert.Equal(live.ToString(), (await admitted.NextPatchAsync()).Id);
    }

    // One connection cannot open unbounded subscriptions (each has a queue and starts with a reset): past the limit a
    // subscribe to another collection fails with the hub error; a subscribe again to one it follows is still a restart,
    // and unsubscribing one makes room.
    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Subscribe_PastMaxCollectionsPerConnection_FailsWithTooManyCollections_ResubscribeAndUnsubscribeStillWork(string protocol)
    {
        await using var server = await TestServer.StartAsync(signalR: static o => o.MaxCollectionsPerConnection = 1);
        await using var client = await server.ConnectAsync(protocol);
        await client.SubscribeAsync("messages", null);
        Assert.True((await client.NextPatchAsync()).Reset);

        var error = await Assert.ThrowsAsync<HubException>(() => client.SubscribeAsync("rooms", null));

        Assert.StartsWith("TooManyCollections: ", ServerMessage(error), StringComparison.Ordinal);
        Assert.Equal(0, server.Rooms.SubscriberCount);
        await client.SubscribeAsync("messages", null); // the same collection again: a restart, not one more
        Assert.True((await client.NextPatchAsync()).Reset);
        Assert.Equal(1, server.Messages.SubscriberCount);
        await using var other = await server.ConnectAsync(protocol); // the limit is per connection
        await other.SubscribeAsync("rooms", null);
        Assert.True((await other.NextPatchAsync()).Reset);

        await client.UnsubscribeAsync("messages");
        await client.SubscribeAsync("rooms", null);

        var rooms = await client.NextPatchAsync();
        Assert.Equal("rooms", rooms.Collection);
        Assert.True(rooms.Reset);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task TwoCollectionsOnOneConnection_Interleave_ThenUnsubscribeEndsOne(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync(protocol);
        await client.SubscribeAsync("messages", null);
        Assert.Equal("messages", (await client.NextPatchAsync()).Collection);
        await client.SubscribeAsync("rooms", null);
        var roomsReset = await client.NextPatchAsync();
        Assert.Equal("rooms", roomsReset.Collection);
        Assert.True(roomsReset.Reset);
        Assert.Equal("""[{"op":"replace","path":"","value":{"rooms":{}}}]""", roomsReset.Patch);

        var m1 = server.Messages.Create("m1", """{"n":1}"""u8);
        var r1 = server.Rooms.Create("r1", """{"n":1}"""u8);
        var m2 = server.Messages.Create("m2", """{"n":2}"""u8);
        // Each collection's subscription writes on its own, so the two interleave in any order, each in its own order.
        var received = new[] { await client.NextPatchAsync(), await client.NextPatchAsync(), await client.NextPatchAsync() };
        Assert.Equal([m1.ToString(), m2.ToString()], received.Where(m => m.Collection == "messages").Select(m => m.Id));
        Assert.Equal([r1.ToString()], received.Where(m => m.Collection == "rooms").Select(m => m.Id));
        Assert.All(received, m => Assert.StartsWith($$"""[{"op":"add","path":"/{{m.Collection}}/""", m.Patch, StringComparison.Ordinal));

        await client.UnsubscribeAsync("messages");
        await client.UnsubscribeAsync("messages"); // a no-op the second time

        Assert.Equal(0, server.Messages.SubscriberCount);
        Assert.Equal(1, server.Rooms.SubscriberCount);
        server.Messages.Create("m3", """{"n":3}"""u8);
        var r2 = server.Rooms.Create("r2", """{"n":2}"""u8);
        var next = await client.NextPatchAsync();
        Assert.Equal("rooms", next.Collection);
        Assert.Equal(r2.ToString(), next.Id);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task SubscribeAgain_ReplacesTheSubscriptionFromTheNewCursor(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        var start = server.Messages.Create("1", """{"n":1}"""u8);
        var second = server.Messages.Create("2", """{"n":2}"""u8);
        await using var client = await server.ConnectAsync(protocol);
        await client.SubscribeAsync("messages", null);
        Assert.True((await client.NextPatchAsync()).Reset);

        await client.SubscribeAsync("messages", start.ToString());

        Assert.Equal(second.ToString(), (await client.NextPatchAsync()).Id);
        Assert.Equal(1, server.Messages.SubscriberCount);
        var live = server.Messages.Create("3", """{"n":3}"""u8);
        Assert.Equal(live.ToString(), (await client.NextPatchAsync()).Id);
        Assert.False(client.HasPending);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Disconnect_FreesEverySubscriptionOfTheConnection(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        var client = await server.ConnectAsync(protocol);
        await client.SubscribeAsync("messages", null);
        await client.SubscribeAsync("rooms", null);
        Assert.Equal(1, server.Messages.SubscriberCount);
        Assert.Equal(1, server.Rooms.SubscriberCount);

        await client.DisposeAsync();

        await WaitUntilAsync(() => server.Messages.SubscriberCount == 0 && server.Rooms.SubscriberCount == 0);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task SlowConsumer_IsClosedWithACloseMessage_AndResumesByCursor(string protocol)
    {
        // A queue of one event, and events created on the server in a tight loop: the subscriber's queue overflows
        // before its writes can drain it, which is what a client reading slower than events come looks like to Rocket.
        await using var server = await TestServer.StartAsync(static o =>
        {
            o.SubscriberQueueMaxEvents = 1;
            o.SubscriberQueueMaxBytes = 1;
        });
        await using var client = await server.ConnectAsync(protocol);
        await client.SubscribeAsync("messages", null);
        var last = (await client.NextPatchAsync()).Id!;
        await client.SubscribeAsync("rooms", null);
        Assert.True((await client.NextPatchAsync()).Reset);

        for (var i = 0; i < 1_000 && server.Messages.SubscriberCount > 0; i++)
        {
            server.Messages.Create(i.ToString(System.Globalization.CultureInfo.InvariantCulture), """{"n":0}"""u8);
        }

        ReceivedMessage message;
        while ((message = await client.NextAsync()).Target == "patch")
        {
            Assert.Equal("messages", message.Collection);
            Assert.Equal(Parse(last).Sequence + 1, Parse(message.Id!).Sequence);
            last = message.Id!;
        }

        Assert.Equal("close", message.Target);
        Assert.Equal("messages", message.Collection);
        Assert.Equal("SlowConsumer", message.Status);
        Assert.StartsWith("slow consumer: ", message.Reason, StringComparison.Ordinal);
        Assert.Equal(0, server.Messages.SubscriberCount);

        // Only that collection ended. The client subscribes again with its last id: the events it missed are more than
        // its queue of one holds, so it gets a reset to the current state, then live events.
        Assert.Equal(1, server.Rooms.SubscriberCount);
        await client.SubscribeAsync("messages", last);
        var reset = await client.NextPatchAsync();
        Assert.True(reset.Reset);
        Assert.Equal(server.Messages.Cursor.ToString(), reset.Id);
        var live = server.Messages.Create("live", """{"n":1}"""u8);
        Assert.Equal(live.ToString(), (await client.NextPatchAsync()).Id);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task CollectionShutsDown_SendsCloseWithTheReason(string protocol)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync(protocol);
        await client.SubscribeAsync("messages", null);
        await client.NextPatchAsync();

        server.Messages.Dispose();

        var close = await client.NextAsync();
        Assert.Equal(new ReceivedMessage("close", "messages", Status: "ShuttingDown", Reason: CloseReason.ShuttingDown.Description), close);
        var error = await Assert.ThrowsAsync<HubException>(() => client.SubscribeAsync("messages", null));
        Assert.StartsWith("ShuttingDown: ", ServerMessage(error), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task ServerStops_EachSubscriptionGetsCloseShuttingDown_ThenTheHubErrorEndsTheConnection(string protocol)
    {
        var server = await TestServer.StartAsync();
        var (messages, rooms) = (server.Messages, server.Rooms);
        await using var client = await server.ConnectAsync(protocol);
        await client.SubscribeAsync("messages", null);
        await client.SubscribeAsync("rooms", null);
        await client.NextPatchAsync();
        await client.NextPatchAsync();
        var closed = new TaskCompletionSource<Exception?>();
        client.Connection.Closed += error =>
        {
            closed.TrySetResult(error);
            return Task.CompletedTask;
        };

        await server.DisposeAsync();

        var error = await closed.Task.WaitAsync(HubClient.Timeout);
        var closes = new[] { await client.NextAsync(), await client.NextAsync() };
        Assert.Equal(["messages", "rooms"], closes.Select(static m => m.Collection).Order());
        Assert.All(closes, static m => Assert.Equal(("close", "ShuttingDown"), (m.Target, m.Status)));
        Assert.Contains("ShuttingDown: ", error?.Message, StringComparison.Ordinal);
        Assert.Equal(0, messages.SubscriberCount);
        Assert.Equal(0, rooms.SubscriberCount);
    }

    // A HubException's message as the client sees it: SignalR prefixes the server's with its own words.
    private static string ServerMessage(HubException error)
    {
        const string Marker = "HubException: ";
        var at = error.Message.IndexOf(Marker, StringComparison.Ordinal);
        return at >= 0 ? error.Message[(at + Marker.Length)..] : error.Message;
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
            Assert.True(clock.Elapsed < HubClient.Timeout, "timed out waiting for the condition");
            await Task.Delay(10);
        }
    }
}
