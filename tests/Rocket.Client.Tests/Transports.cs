using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Client.SignalR;
using Rocket.Live;

namespace Rocket.Client.Tests;

public static class Transports
{
    public static TheoryData<string> All => new() { "sse", "websocket", "signalr", "signalr-messagepack" };

    public static IStreamConnector Create(string name) => name switch
    {
        "sse" => new SseConnector(),
        "websocket" => new WebSocketConnector(),
        "signalr" => new SignalRConnector(),
        "signalr-messagepack" => new SignalRConnector { Protocol = SignalRHubProtocol.MessagePack },
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    public static LiveCollectionClientOptions Options(Uri uri, string transport, bool fetchFirst = true) => new()
    {
        CollectionUri = uri,
        Transport = Create(transport),
        FetchDocumentFirst = fetchFirst,
        InitialReconnectDelay = TimeSpan.FromMilliseconds(20),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(300),
    };

    /// <summary>Waits for a condition, polling; fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task Eventually(Func<bool> condition, string what, int timeoutSeconds = 20)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (!condition())
        {
            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Waits until the client's copy equals the server's keyed document and its cursor is the server's.</summary>
    public static async Task ConvergesAsync(LiveCollectionClient client, ClientTestServer server, int timeoutSeconds = 20)
    {
        await Eventually(() => client.Cursor == server.Collection.Cursor.ToString(), $"the client's cursor to reach {server.Collection.Cursor} (it is {client.Cursor})", timeoutSeconds);
        var expected = await server.GetKeyedAsync();
        var actual = JsonNode.Parse(client.GetDocumentJson(), documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 128 });
        Assert.True(JsonNode.DeepEquals(expected, actual), $"copy differs from the server's:\n{actual}\nexpected:\n{expected}");
        Assert.Equal(server.Collection.Count, client.Records.Count);
    }

    /// <summary>Checks that the applied (non-reset) changes' cursors follow each other by one within an epoch.</summary>
    public static void AssertNoGapNoDuplicate(IReadOnlyList<CollectionChange> changes)
    {
        Cursor? previous = null;
        foreach (var change in changes)
        {
            Assert.True(Cursor.TryParse(change.Cursor, out var cursor), $"bad cursor {change.Cursor}");
            if (change.Kind == CollectionChangeKind.Patch && previous is { } p && p.Epoch == cursor.Epoch)
            {
                Assert.True(cursor.Sequence == p.Sequence + 1, $"after {p} came {cursor}: {(cursor.Sequence <= p.Sequence ? "a duplicate" : "a gap")}");
            }

            previous = cursor;
        }
    }
}
