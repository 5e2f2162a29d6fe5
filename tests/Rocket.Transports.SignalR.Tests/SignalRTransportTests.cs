using System;
using System.Buffers;
using System.Text;
using System.Threading.Tasks;
using MessagePack;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Rocket.Live;

namespace Rocket.Transports.SignalR.Tests;

/// <summary>The framer, the wire forms of a stream item in both hub protocols, and the transport without a server.</summary>
public sealed class SignalRTransportTests
{
    private static readonly byte[] Patch = """[{"op":"add","path":"/messages/1","value":{"id":"1","text":"é \"q\""}}]"""u8.ToArray();

    [Fact]
    public void Frame_Event_IsFlagCursorLineFeedPatch()
    {
        var output = new ArrayBufferWriter<byte>();
        SignalREventFramer.Instance.Frame(new LiveEvent("messages", new Cursor(0x2a, 7), Patch, isReset: false), output);

        Assert.Equal("e0000002a.7\n" + Encoding.UTF8.GetString(Patch), Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Frame_Reset_IsFlaggedR()
    {
        var output = new ArrayBufferWriter<byte>();
        SignalREventFramer.Instance.Frame(new LiveEvent("messages", new Cursor(0x2a, 0), Patch, isReset: true), output);

        Assert.Equal((byte)'r', output.WrittenSpan[0]);
    }

    [Fact]
    public void JsonHubProtocol_StreamItem_CarriesThePatchAsTheRawArray()
    {
        var item = FromFrame(reset: false);
        var output = new ArrayBufferWriter<byte>();

        new JsonHubProtocol().WriteMessage(new StreamItemMessage("1", item), output);

        Assert.Equal(
            """{"type":2,"invocationId":"1","item":{"collection":"messages","id":"0000002a.7","reset":false,"patch":""" + Encoding.UTF8.GetString(Patch) + "}}\u001e",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void MessagePack_StreamItem_IsAMapWithThePatchAsJsonText()
    {
        var item = FromFrame(reset: true);
        var options = MessagePackSerializerOptions.Standard;

        var bytes = MessagePackSerializer.Serialize(item, options);
        var reader = new MessagePackReader(bytes);
        Assert.Equal(4, reader.ReadMapHeader());
        Assert.Equal("collection", reader.ReadString());
        Assert.Equal("messages", reader.ReadString());
        Assert.Equal("id", reader.ReadString());
        Assert.Equal("0000002a.7", reader.ReadString());
        Assert.Equal("reset", reader.ReadString());
        Assert.True(reader.ReadBoolean());
        Assert.Equal("patch", reader.ReadString());
        Assert.Equal(Encoding.UTF8.GetString(Patch), reader.ReadString());

        var back = MessagePackSerializer.Deserialize<RocketHubEvent>(bytes, options);
        Assert.Equal(("messages", "0000002a.7", true), (back.Collection, back.Id, back.Reset));
        Assert.Equal(Patch, back.Patch.ToArray());
    }

    [Fact]
    public void Json_RoundTrip_ReadsTheArrayBack()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(FromFrame(reset: false));

        var back = System.Text.Json.JsonSerializer.Deserialize<RocketHubEvent>(json)!;

        Assert.Equal(("messages", "0000002a.7", false), (back.Collection, back.Id, back.Reset));
        Assert.Equal(Encoding.UTF8.GetString(Patch), Encoding.UTF8.GetString(back.Patch.Span));
    }

    [Fact]
    public async Task CloseAsync_CompletesTheStreamWithTheReasonAfterTheQueuedEvents()
    {
        var transport = new SignalRTransport("messages");
        await transport.WriteAsync(Frame(reset: true));

        await transport.CloseAsync(CloseReason.SlowConsumer(2, 100));

        await using var items = transport.Stream.GetAsyncEnumerator();
        Assert.True(await items.MoveNextAsync());
        Assert.True(items.Current.Reset);
        var error = await Assert.ThrowsAsync<HubException>(async () => await items.MoveNextAsync());
        Assert.Equal("SlowConsumer: slow consumer: more than 2 events or 100 bytes queued; resume from your last cursor", error.Message);
    }

    [Fact]
    public async Task StalledStream_IsClosedAsASlowConsumerWithTheReason()
    {
        // A stream SignalR stops reading (its connection is full) holds the subscription's writes, so its queue
        // overflows: the subscriber is closed, and its stream ends with the reason after what it already holds.
        using var collection = new LiveCollection("messages", new LiveCollectionOptions { SubscriberQueueMaxEvents = 2, HeartbeatInterval = TimeSpan.Zero });
        var transport = new SignalRTransport("messages", streamBufferCapacity: 1);
        var subscription = collection.Subscribe(transport);
        var done = transport.CompleteWhenDoneAsync(subscription);
        // The reset fills the one-item buffer; nothing reads it, so the next write waits like a full connection.
        await using var items = transport.Stream.GetAsyncEnumerator();
        var deadline = DateTime.UtcNow + HubStream.Timeout;
        while (transport.Buffered == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Yield();
        }

        Assert.Equal(1, transport.Buffered);

        for (var i = 0; i < 10 && subscription.CloseReason is null; i++)
        {
            collection.Create(i.ToString(System.Globalization.CultureInfo.InvariantCulture), "{}"u8);
        }

        await done.WaitAsync(HubStream.Timeout);
        Assert.Equal(CloseStatus.SlowConsumer, subscription.CloseReason?.Status);
        Assert.True(await items.MoveNextAsync());
        Assert.True(items.Current.Reset);
        var error = await Assert.ThrowsAsync<HubException>(async () => await items.MoveNextAsync());
        Assert.StartsWith("SlowConsumer: ", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, collection.SubscriberCount);
    }

    [Fact]
    public async Task WriteManyAsync_WritesEveryFrameInOrderWaitingForRoom()
    {
        var transport = new SignalRTransport("messages", streamBufferCapacity: 1);
        ReadOnlyMemory<byte>[] frames = [Frame(false, 1), Frame(false, 2), Frame(false, 3)];

        var write = transport.WriteManyAsync(frames).AsTask();
        await using var items = transport.Stream.GetAsyncEnumerator();
        for (var sequence = 1; sequence <= 3; sequence++)
        {
            Assert.True(await items.MoveNextAsync().AsTask().WaitAsync(HubStream.Timeout));
            Assert.Equal($"0000002a.{sequence}", items.Current.Id);
        }

        await write.WaitAsync(HubStream.Timeout);
    }

    private static byte[] Frame(bool reset, long sequence = 7)
    {
        var output = new ArrayBufferWriter<byte>();
        SignalREventFramer.Instance.Frame(new LiveEvent("messages", new Cursor(0x2a, sequence), Patch, reset), output);
        return output.WrittenSpan.ToArray();
    }

    private static RocketHubEvent FromFrame(bool reset) => new("messages", Frame(reset));
}
