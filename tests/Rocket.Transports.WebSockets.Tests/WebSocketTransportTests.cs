using System;
using System.Collections.Generic;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets.Tests;

public sealed class WebSocketTransportTests
{
    [Fact]
    public async Task WriteManyAsync_Upgraded_BatchLargerThanACoalescingBufferArrivesWholeAndInOrder()
    {
        using var pair = InMemoryWebSocketPair.Create(upgraded: true);
        using var transport = new WebSocketTransport(pair.Server, pair.Connection, TimeSpan.FromSeconds(10));
        var (frames, messages) = MixedBatch();

        // Written before the client reads: the batch outgrows the pipe, so the rest of it waits for the reader.
        var write = transport.WriteManyAsync(frames).AsTask();
        Assert.False(write.IsCompleted);
        var received = ReceiveAsync(pair.Client, messages.Count);
        await write.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(messages, await received.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WriteManyAsync_UpgradedWithNoCoalescingBuffer_WritesFrameByFrameWholeAndInOrder()
    {
        using var pair = InMemoryWebSocketPair.Create(upgraded: true);
        using var transport = new WebSocketTransport(pair.Server, pair.Connection, TimeSpan.FromSeconds(10), new CoalescingBuffers(capacity: 0));
        var (frames, messages) = MixedBatch();

        // Written before the client reads: the batch outgrows the pipe, so the rest of it waits for the reader.
        var write = transport.WriteManyAsync(frames).AsTask();
        Assert.False(write.IsCompleted);
        var received = ReceiveAsync(pair.Client, messages.Count);
        await write.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(messages, await received.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    // 900 small frames (more than one coalescing buffer holds) with a frame larger than a buffer in the middle, so a batch
    // is cut into pieces and the large frame goes out as it is; about 185 KB, well past the pipe's 64 KiB pause.
    private static (ReadOnlyMemory<byte>[] Frames, List<string> Messages) MixedBatch()
    {
        var frames = new List<ReadOnlyMemory<byte>>();
        var messages = new List<string>();
        for (var i = 0; i < 900; i++)
        {
            var message = i == 450 ? $"{{\"type\":\"patch\",\"id\":\"{i}\",\"big\":\"{new string('x', CoalescingBuffers.BufferSize)}\"}}" : $"{{\"type\":\"patch\",\"id\":\"{i}\",\"text\":\"{new string('y', 150)}\"}}";
            var payload = Encoding.UTF8.GetBytes(message);
            var frame = new byte[WebSocketFrame.GetHeaderLength(payload.Length) + payload.Length];
            payload.CopyTo(frame.AsSpan(WebSocketFrame.WriteTextHeader(frame, payload.Length)));
            frames.Add(frame);
            messages.Add(message);
        }

        return (frames.ToArray(), messages);
    }

    private static async Task<List<string>> ReceiveAsync(WebSocket client, int count)
    {
        var messages = new List<string>();
        var buffer = new byte[64 * 1024];
        while (messages.Count < count)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await client.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                length += result.Count;
            }
            while (!result.EndOfMessage);

            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            messages.Add(Encoding.UTF8.GetString(buffer, 0, length));
        }

        return messages;
    }
}
