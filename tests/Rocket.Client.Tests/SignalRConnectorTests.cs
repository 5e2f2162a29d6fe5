using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR.Client;
using Rocket.Client.SignalR;

namespace Rocket.Client.Tests;

/// <summary>The SignalR connector with SignalR's own automatic reconnect turned on.</summary>
public sealed class SignalRConnectorTests
{
    [Theory]
    [InlineData(SignalRHubProtocol.Json)]
    [InlineData(SignalRHubProtocol.MessagePack)]
    public async Task AutomaticReconnect_SubscribesAgainFromTheLastEvent_WithoutGapDuplicateOrReset(SignalRHubProtocol protocol)
    {
        await using var server = await ClientTestServer.StartAsync();
        var options = Transports.Options(server.CollectionUri, "signalr");
        options.Transport = new SignalRConnector
        {
            Protocol = protocol,
            ConfigureConnection = b => b.WithAutomaticReconnect(new RetryForever()),
        };
        var changes = new ConcurrentQueue<CollectionChange>();
        var clientReconnects = 0;
        await using var client = new LiveCollectionClient(options);
        client.Changed += (_, c) => changes.Enqueue(c);
        client.Reconnecting += (_, _) => Interlocked.Increment(ref clientReconnects);
        await client.StartAsync();

        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 5; i++)
            {
                server.Collection.Create($"r{round}-{i}", """{"text":"live"}"""u8);
            }

            await Transports.Eventually(() => server.OpenStreams > 0, "an open stream");
            Assert.True(server.CutStreams() > 0);

            // Changes made while the connection is down arrive once SignalR has reconnected and the connector subscribed again.
            server.Collection.Update($"r{round}-0", """{"text":"while cut"}"""u8);
            server.Collection.Delete($"r{round}-1");
            await Transports.ConvergesAsync(client, server);
        }

        // SignalR reconnected underneath: the client's stream never ended.
        Assert.Equal(0, Volatile.Read(ref clientReconnects));
        var list = changes.ToList();
        Assert.DoesNotContain(list, c => c.Kind == CollectionChangeKind.Reset);
        Assert.Equal(server.Collection.Cursor.Sequence, list.Count(c => c.Kind == CollectionChangeKind.Patch));
        Transports.AssertNoGapNoDuplicate(list);
    }

    [Theory]
    [InlineData(SignalRHubProtocol.Json, false)]
    [InlineData(SignalRHubProtocol.MessagePack, false)]
    [InlineData(SignalRHubProtocol.Json, true)]
    [InlineData(SignalRHubProtocol.MessagePack, true)]
    public async Task ConnectionCutWhileLargeEventsAreInSlices_DropsTheSlices_AndTheCopyEqualsTheServer(SignalRHubProtocol protocol, bool automaticReconnect)
    {
        // While the client is cut off, about 4 MB of records are written (each a 130 KB event, sent as patchPart slices):
        // it resumes with them or, past its queue's limit, with a reset of the whole, and is cut again as they arrive.
        // Slices received before a cut must never be joined to what is sent after it.
        await using var server = await ClientTestServer.StartAsync();
        var text = new string('x', 130_000);
        server.Collection.Create("first", """{"text":"before"}"""u8);
        var options = Transports.Options(server.CollectionUri, "signalr", fetchFirst: false);
        options.Transport = new SignalRConnector
        {
            Protocol = protocol,
            ConfigureConnection = automaticReconnect ? b => b.WithAutomaticReconnect(new RetryForever()) : null,
        };
        var changes = new ConcurrentQueue<CollectionChange>();
        await using var client = new LiveCollectionClient(options);
        client.Changed += (_, c) => changes.Enqueue(c);
        await client.StartAsync();
        await Transports.ConvergesAsync(client, server);

        for (var round = 0; round < 3; round++)
        {
            await Transports.Eventually(() => server.OpenStreams > 0, "an open stream");
            Assert.True(server.CutStreams() > 0);
            for (var i = 0; i < 30; i++)
            {
                server.Collection.Create($"r{round}-{i}", System.Text.Encoding.UTF8.GetBytes($$"""{"text":"{{i}} {{text}}"}"""));
            }

            // The next cut lands on whatever the stream is doing then: mostly slices of these events or of a reset.
            await Transports.Eventually(() => server.OpenStreams > 0, "an open stream");
            server.CutStreams();
        }

        server.Collection.Create("live", """{"text":"after"}"""u8);
        await Transports.ConvergesAsync(client, server);

        Assert.All(changes, c => Assert.True(c.Kind is CollectionChangeKind.Reset or CollectionChangeKind.Patch, $"a {c.Kind}"));
        Assert.Equal(92, client.Records.Count);
    }

    // SignalR retries until it is back, however slow the machine: the client's own stream must never end.
    private sealed class RetryForever : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) => TimeSpan.FromMilliseconds(Math.Min(50 * (retryContext.PreviousRetryCount + 1), 500));
    }
}
