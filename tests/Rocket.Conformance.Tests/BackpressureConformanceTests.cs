using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;

namespace Rocket.Conformance.Tests;

/// <summary>
/// For transports whose client can stop reading and so push back on the server (SSE, WebSocket). SignalR's clients
/// read their socket into unbounded buffers and never push back; its slow-consumer close is tested at the transport.
/// </summary>
public abstract class BackpressureConformanceTests : TransportConformanceTests
{
    [Fact]
    public async Task StalledSubscriber_IsClosed_WhileAnotherReceivesEverything()
    {
        await using var server = await StartServerAsync(options =>
        {
            options.SubscriberQueueMaxEvents = 32;
            options.SubscriberQueueMaxBytes = 256 * 1024;
        });
        using var timeout = new CancellationTokenSource(Timeout * 2);
        await using var healthy = await Transport.ConnectAsync(server.BaseAddress, "messages", null, timeout.Token);
        var reset = await NextPatchAsync(healthy, timeout.Token);
        await using var stalled = await Transport.ConnectStalledAsync(server.BaseAddress, "messages", timeout.Token);
        await WaitUntilAsync(() => server.Collection.SubscriberCount == 2, timeout.Token);

        // The writer publishes far more than the stalled client's socket buffers and queue hold, in rounds the healthy
        // client keeps up with (a round is under its queue limit), so only the stalled one can fall behind.
        const int Events = 800;
        const int Round = 5; // 80 KiB: even counted twice (a round still flushing while the next is queued) it fits the queue
        var received = new List<string>();
        var text = new string('x', 16 * 1024);
        for (var i = 0; i < Events; i++)
        {
            server.Create(i.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetBytes($$"""{"text":"{{text}}"}"""));
            if ((i + 1) % Round == 0)
            {
                while (received.Count < i + 1)
                {
                    received.Add((await NextPatchAsync(healthy, timeout.Token)).Cursor!);
                }
            }
        }

        var cursors = received;
        Assert.Equal(Enumerable.Range(1, Events).Select(i => new Cursor(ParseCursor(reset.Cursor!).Epoch, i).ToString()), cursors);
        await WaitUntilAsync(() => server.Collection.SubscriberCount == 1, timeout.Token);
    }

    private static Cursor ParseCursor(string text) =>
        Cursor.TryParse(text, out var cursor) ? cursor : throw new InvalidOperationException($"'{text}' is not a cursor.");
}
