using System;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets.Tests;

/// <summary>
/// The multi-collection WebSocket caps the collections one connection follows (<c>MaxCollectionsPerConnection</c>): a
/// subscribe past it is answered with an <c>error</c> message, the connection stays open and its streams go on.
/// </summary>
public sealed class MultiCollectionLimitTests
{
    [Fact]
    public async Task Subscribe_PastMaxCollectionsPerConnection_ErrorTooManyCollections_ConnectionAndStreamGoOn()
    {
        await using var server = await TestServer.StartAsync(transport: static o => o.MaxCollectionsPerConnection = 1);
        using var client = await TestServer.ConnectAsync(server.MultiCollectionUri);
        await client.SendTextAsync("""{"type":"subscribe","collection":"messages"}""");
        Assert.True((await client.ReceiveAsync()).IsReset);

        await client.SendTextAsync("""{"type":"subscribe","collection":"rooms/lobby/messages"}""");
        var error = await client.ReceiveAsync();

        Assert.Equal("error", error.Type);
        Assert.Equal("rooms/lobby/messages", error.Message.GetProperty("collection").GetString());
        Assert.Equal("TooManyCollections", error.Message.GetProperty("status").GetString());
        Assert.Equal(1, server.Collection.SubscriberCount);
        var cursor = server.Collection.Create("1", "{}"u8);
        var live = await client.ReceiveAsync();
        Assert.Equal(cursor.ToString(), live.Id);
        await client.SendTextAsync("""{"type":"subscribe","collection":"messages"}"""); // again: a restart, not one more
        Assert.True((await client.ReceiveAsync()).IsReset);
    }
}
