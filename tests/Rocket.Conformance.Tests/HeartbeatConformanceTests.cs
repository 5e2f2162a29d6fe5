using System;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Conformance.Tests;

/// <summary>For transports whose heartbeats a client can see (SSE comments; a WebSocket's application pings).</summary>
public abstract class HeartbeatConformanceTests
{
    protected abstract ITransportUnderTest Transport { get; }

    [Fact]
    public async Task IdleStream_GetsHeartbeats()
    {
        await using var server = await ConformanceServer.StartAsync(Transport, options => options.HeartbeatInterval = TimeSpan.FromMilliseconds(100));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var client = await Transport.ConnectAsync(server.BaseAddress, "messages", null, timeout.Token);

        var first = await client.ReadAsync(timeout.Token);
        Assert.Equal(StreamMessageKind.Patch, first.Kind); // the reset
        var heartbeats = 0;
        while (heartbeats < 2)
        {
            var message = await client.ReadAsync(timeout.Token);
            Assert.Equal(StreamMessageKind.Heartbeat, message.Kind); // nothing else happens on an idle stream
            heartbeats++;
        }
    }
}
