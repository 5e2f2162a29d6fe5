using System;
using System.Linq;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using CsCheck;
using Rocket.Live;
using Rocket.Transports.WebSockets;
using Rocket.Transports.WebSockets.Tests;
using Xunit.Abstractions;

namespace Rocket.Fuzz.Tests;

/// <summary>
/// The WebSocket session's handling of what a client sends first (docs/websocket-protocol.md, "Client → server"), over
/// an in-memory socket pair through the public <see cref="WebSocketSession.RunAwaitingResumeAsync"/> (a stream opened with
/// ?resume=message, the one that reads a first message before it starts): a resume message starts the
/// stream; anything else gets the documented answer (an <c>error</c> message and close 1003, 1008 or 1009, or close
/// 1007 for text that is not UTF-8); the session's task always completes, never faults.
/// </summary>
public sealed class WebSocketClientMessageFuzzTests(ITestOutputHelper output)
{
    private const int Limit = 256;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    // The resume window is long: the client always sends first, and no case should depend on timing.
    private static readonly WebSocketTransportOptions Options = new() { MaxIncomingMessageBytes = Limit, ResumeMessageTimeout = TimeSpan.FromSeconds(60) };

    private static readonly Gen<string> CursorText = Gen.Frequency(
        (2, Gen.OneOf("0000abcd.0", "0000abcd.1", "0000abcd.99", "12345678.1", "garbage", "", "\\u0030000abcd.1", "\\ud800", "\\udc00x", "\\uD83D\\uDE80")),
        (1, Gen.String[0, 12].Select(static s => JsonEncodedText.Encode(s).ToString())));

    /// <summary>Resume messages, their near misses, and other JSON: members reordered, retyped, repeated, escaped.</summary>
    private static readonly Gen<string> Json = Gen.Select(
        Gen.Frequency((3, Gen.Const("\"resume\"")), (2, Gen.OneOf("\"Resume\"", "\"resum\\u0065\"", "\"subscribe\"", "\"\"", "1", "null", "[\"resume\"]", "\"\\ud800\""))),
        Gen.Frequency((3, CursorText.Select(static c => "\"" + c + "\"")), (1, Gen.OneOf("null", "42", "{}", "[]", "true"))),
        Gen.Int[0, 7],
        static (type, cursor, shape) => shape switch
        {
            0 => $$"""{"type":{{type}},"lastEventId":{{cursor}}}""",
            1 => $$"""{"lastEventId":{{cursor}},"type":{{type}}}""",
            2 => $$"""{"type":{{type}}}""",
            3 => $$"""{"type":{{type}},"lastEventId":{{cursor}},"extra":[1,{"a":null}]}""",
            4 => $$"""{"type":{{type}},"type":{{type}}}""",
            5 => $$"""{"type":{{type}},"lastEventId":{{cursor}},"lastEventId":{{cursor}}}""",
            6 => $$"""[{"type":{{type}}}]""",
            _ => $$"""{"type":{{type}},"x":[[[[[[[[[]]]]]]]]]}""",
        });

    private static readonly Gen<ClientMessage> Messages = Gen.Frequency(
        (6, Gen.Select(Json.Select(static s => Encoding.UTF8.GetBytes(s)), Gen.Int[1, 3], static (bytes, frames) => new ClientMessage(bytes, WebSocketMessageType.Text, frames))),
        (3, Gen.Select(Gens.Mutated(Json.Select(static s => Encoding.UTF8.GetBytes(s)), max: 2), Gen.Int[1, 3], static (bytes, frames) => new ClientMessage(bytes, WebSocketMessageType.Text, frames))),
        (1, Gen.Select(Gen.Byte.Array[0, 40], Gen.Bool, static (bytes, binary) => new ClientMessage(bytes, binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, 1))),
        (1, Gen.Int[Limit - 40, Limit + 40].Select(static n => new ClientMessage(Encoding.UTF8.GetBytes($$"""{"type":"resume","lastEventId":"{{new string('x', n)}}"}"""), WebSocketMessageType.Text, 2))));

    [Fact]
    public async Task FirstMessage_AnyBytes_ResumesOrDocumentedClose()
    {
        var outcomes = new int[5];
        await Fuzz.RunAsync(
            Messages,
            async message => outcomes[(int)await CheckAsync(message)]++,
            seed: 0x5EED_0401,
            ciCases: 600,
            output,
            cost: 100,
            print: static m => $"{m.Type} in {m.Frames} frame(s): {Gens.Show(m.Bytes)}");
        output.WriteLine($"resumed {outcomes[0]}, 1008 {outcomes[1]}, 1003 {outcomes[2]}, 1009 {outcomes[3]}, 1007 {outcomes[4]}");
        Assert.InRange(outcomes[0], 1, int.MaxValue);
        Assert.InRange(outcomes[1], 1, int.MaxValue);
    }

    private enum Outcome
    {
        Resumed,
        PolicyViolation,
        Binary,
        TooBig,
        NotUtf8,
    }

    private static async Task<Outcome> CheckAsync(ClientMessage message)
    {
        using var collection = new LiveCollection("messages", new LiveCollectionOptions { Epoch = 0x0000abcd, HeartbeatInterval = System.Threading.Timeout.InfiniteTimeSpan });
        collection.Create("1", "{}"u8);
        using var pair = InMemoryWebSocketPair.Create();
        var session = WebSocketSession.RunAwaitingResumeAsync(pair.Server, collection, Options);
        using var timeout = new CancellationTokenSource(Timeout);

        for (var i = 0; i < message.Frames; i++)
        {
            var (start, end) = (message.Bytes.Length * i / message.Frames, message.Bytes.Length * (i + 1) / message.Frames);
            await pair.Client.SendAsync(message.Bytes.AsMemory(start, end - start), message.Type, i == message.Frames - 1, timeout.Token);
        }

        // A write after the message: a resumed stream has an event to send whatever cursor the message carried.
        collection.Create("2", "{}"u8);
        var expected = Expect(message);
        var (type, payload) = await ReceiveAsync(pair.Client, timeout.Token);
        var closing = Task.CompletedTask;
        if (expected == Outcome.Resumed)
        {
            Assert.True(type == WebSocketMessageType.Text, $"Expected the stream to start, got {type}: {pair.Client.CloseStatus} {pair.Client.CloseStatusDescription}");
            Assert.Equal("patch", JsonElement.Parse(payload).GetProperty("type").GetString());
            closing = pair.Client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }
        else if (expected == Outcome.NotUtf8)
        {
            // The WebSocket implementation itself refuses the message, with close 1007 (and may say so in a message first).
            while (type == WebSocketMessageType.Text)
            {
                (type, payload) = await ReceiveAsync(pair.Client, timeout.Token);
            }

            Assert.Equal(WebSocketMessageType.Close, type);
            Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, pair.Client.CloseStatus);
        }
        else
        {
            var code = expected switch
            {
                Outcome.Binary => WebSocketCloseStatus.InvalidMessageType,
                Outcome.TooBig => WebSocketCloseStatus.MessageTooBig,
                _ => WebSocketCloseStatus.PolicyViolation,
            };
            Assert.True(type == WebSocketMessageType.Text, $"Expected an error message before close {(int)code}, got {type}: {pair.Client.CloseStatus} {pair.Client.CloseStatusDescription}");
            var error = JsonElement.Parse(payload);
            Assert.Equal("error", error.GetProperty("type").GetString());
            Assert.Equal((int)code, error.GetProperty("code").GetInt32());
            (type, _) = await ReceiveAsync(pair.Client, timeout.Token);
            Assert.Equal(WebSocketMessageType.Close, type);
            Assert.Equal(code, pair.Client.CloseStatus);
            closing = pair.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }

        // Whatever the client sent, the session ends by itself and never faults.
        await session.WaitAsync(timeout.Token);
        Assert.Equal(0, collection.SubscriberCount);

        // Then the host closes the connection, as Kestrel does when the request ends: a client waits for that (up to a
        // second) once the close handshake is done.
        pair.Server.Dispose();
        await closing.WaitAsync(timeout.Token);
        return expected;
    }

    /// <summary>What docs/websocket-protocol.md says the server does with this first message.</summary>
    private static Outcome Expect(ClientMessage message)
    {
        if (message.Type == WebSocketMessageType.Binary)
        {
            return Outcome.Binary;
        }

        if (!IsUtf8(message.Bytes))
        {
            return Outcome.NotUtf8;
        }

        if (message.Bytes.Length > Limit)
        {
            return Outcome.TooBig;
        }

        try
        {
            using var document = JsonDocument.Parse(message.Bytes, new JsonDocumentOptions { MaxDepth = 8, AllowDuplicateProperties = false });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type"u8, out var type) || type.ValueKind != JsonValueKind.String || !type.ValueEquals("resume"u8))
            {
                return Outcome.PolicyViolation;
            }

            if (!root.TryGetProperty("lastEventId"u8, out var cursor) || cursor.ValueKind == JsonValueKind.Null)
            {
                return Outcome.Resumed;
            }

            // A string, and Unicode text (GetString throws for an escaped unpaired surrogate).
            return cursor.ValueKind == JsonValueKind.String && cursor.GetString() is not null ? Outcome.Resumed : Outcome.PolicyViolation;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Outcome.PolicyViolation;
        }
    }

    private static bool IsUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetCharCount(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            length += result.Count;
            if (result.MessageType == WebSocketMessageType.Close || result.EndOfMessage)
            {
                return (result.MessageType, buffer[..length]);
            }
        }
    }

    private sealed record ClientMessage(byte[] Bytes, WebSocketMessageType Type, int Frames);
}
