using System;
using System.Collections.Generic;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets.Tests;

public sealed class WebSocketTransportTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)] // every coalescing buffer in use: frame by frame
    public async Task WriteManyAsync_Upgraded_BatchLargerThanACoalescingBufferArrivesWholeAndInOrder(bool buffersFree)
    {
        using var pair = InMemoryWebSocketPair.Create(upgraded: true);
        using var transport = new WebSocketTransport(pair.Server, pair.Connection, TimeSpan.FromSeconds(10), buffersFree ? null : new CoalescingBuffers(capacity: 0));
        var (frames, messages) = MixedBatch();

        // Written before the client reads: the batch outgrows the pipe, so the rest of it waits for the reader.
        var write = transport.WriteManyAsync(frames).AsTask();
        Assert.False(write.IsCompleted);
        var received = ReceiveAsync(pair.Client, messages.Count);
        await write.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(messages, await received.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WriteAsync_Upgraded_LargeFrame_GoesOutInFragments_WithControlFramesBetweenThem()
    {
        using var pair = InMemoryWebSocketPair.Create(upgraded: true);
        using var transport = new WebSocketTransport(pair.Server, pair.Connection, TimeSpan.FromSeconds(10));
        var message = $"{{\"type\":\"patch\",\"id\":\"1\",\"big\":\"{new string('x', 1_000_000)}\"}}";
        var payload = Encoding.UTF8.GetBytes(message);
        var frame = new byte[WebSocketFrame.GetHeaderLength(payload.Length) + payload.Length];
        payload.CopyTo(frame.AsSpan(WebSocketFrame.WriteTextHeader(frame, payload.Length)));

        // The client does not read yet, so the write waits in its first fragments; a pong queued now (as the WebSocket
        // answers a ping) must not wait for the whole message.
        var write = transport.WriteAsync(frame).AsTask();
        Assert.False(write.IsCompleted);
        var pong = pair.Connection!.WriteAsync(new byte[] { 0x8A, 0x00 }).AsTask();
        var received = ReceiveAsync(pair.Client, 1);
        await write.WaitAsync(TimeSpan.FromSeconds(10));
        await pong.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([message], await received.WaitAsync(TimeSpan.FromSeconds(10)));
        var writes = pair.ServerWriteFirstBytes;
        Assert.Equal(0x01, writes[0]); // the first fragment: text, no FIN
        Assert.InRange(Array.IndexOf(writes, (byte)0x8A), 1, Array.LastIndexOf(writes, (byte)0x80) - 1); // the pong, before the last fragment
        Assert.InRange(pair.LargestServerWrite, 1, WebSocketMessageSender.SliceBytes);
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
        while (messages.Count < count)
        {
            var received = await client.ReceiveAsync();
            Assert.False(received.IsClose);
            messages.Add(received.Message.GetRawText());
        }

        return messages;
    }
}
