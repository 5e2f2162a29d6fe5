using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Rocket.Live;
using Rocket.SignalR;

namespace Rocket.Transports.SignalR.Tests;

/// <summary>The framers' bytes, read back by SignalR's own hub protocols (what the clients use).</summary>
public sealed class SignalREventFramerTests
{
    private const string PatchText = """[{"op":"add","path":"/messages/1","value":{"id":"1","text":"é \"q\" </script>"}}]""";
    private static readonly byte[] Patch = Encoding.UTF8.GetBytes(PatchText);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MessagePack_Patch_IsExactlyWhatSignalRWritesForTheInvocation(bool reset)
    {
        var frame = Frame(SignalREventFramer.MessagePack, "rooms/a \"b\"", reset);

        var expected = new MessagePackHubProtocol().GetMessageBytes(
            new InvocationMessage("patch", ["rooms/a \"b\"", "0000002a.7", reset, PatchText]));

        Assert.Equal(expected.ToArray(), frame);
    }

    [Fact]
    public void MessagePack_PatchOfTheSliceSize_IsStillOneMessageWithTheWiderLengthForms()
    {
        var patch = "[" + new string(' ', RocketHubContract.PartBytes - 2) + "]";
        var output = new ArrayBufferWriter<byte>();
        SignalREventFramer.MessagePack.Frame(new LiveEvent("messages", new Cursor(0x2a, 7), Encoding.UTF8.GetBytes(patch), isReset: false), output);

        var expected = new MessagePackHubProtocol().GetMessageBytes(new InvocationMessage("patch", ["messages", "0000002a.7", false, patch]));

        Assert.Equal(expected.ToArray(), output.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Json_Patch_IsAnInvocationWithThePatchAsTheArray(bool reset)
    {
        var frame = Frame(SignalREventFramer.Json, "rooms/a \"b\"", reset);

        var message = Assert.IsType<InvocationMessage>(Parse(new JsonHubProtocol(), frame, typeof(JsonElement)).Single());

        Assert.Null(message.InvocationId);
        Assert.Equal("patch", message.Target);
        Assert.Equal("rooms/a \"b\"", message.Arguments[0]);
        Assert.Equal("0000002a.7", message.Arguments[1]);
        Assert.Equal(reset, message.Arguments[2]);
        Assert.Equal(PatchText, ((JsonElement)message.Arguments[3]!).GetRawText());
        Assert.Equal($$"""{"type":1,"target":"patch","arguments":["rooms/a \"b\"","0000002a.7",{{(reset ? "true" : "false")}},{{PatchText}}]}""" + "\u001e", Encoding.UTF8.GetString(frame));
    }

    [Theory]
    [InlineData("json")]
    [InlineData("messagepack")]
    public void Close_IsAnInvocationOfCloseWithStatusAndReason(string protocolName)
    {
        var framer = SignalREventFramer.ForProtocol(protocolName)!;
        IHubProtocol protocol = protocolName == "json" ? new JsonHubProtocol() : new MessagePackHubProtocol();
        var reason = CloseReason.SlowConsumer(1024, 1_048_576);

        var message = Assert.IsType<InvocationMessage>(Parse(protocol, framer.FrameClose("messages", reason), patchType: null).Single());

        Assert.Equal("close", message.Target);
        Assert.Equal(["messages", "SlowConsumer", reason.Description], message.Arguments);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("messagepack")]
    public void JoinedFrames_AreReadAsTheSeparateMessagesTheyAre(string protocolName)
    {
        // What a coalesced write puts on the wire: several frames back to back, as one SignalR write.
        var framer = SignalREventFramer.ForProtocol(protocolName)!;
        IHubProtocol protocol = protocolName == "json" ? new JsonHubProtocol() : new MessagePackHubProtocol();
        byte[] joined = [.. Frame(framer, "messages", false, 1), .. Frame(framer, "messages", false, 2), .. framer.FrameClose("messages", CloseReason.ShuttingDown)];

        var messages = Parse(protocol, joined, protocolName == "json" ? typeof(JsonElement) : typeof(string));

        Assert.Equal(3, messages.Count);
        Assert.Equal("0000002a.1", ((InvocationMessage)messages[0]).Arguments[1]);
        Assert.Equal("0000002a.2", ((InvocationMessage)messages[1]).Arguments[1]);
        Assert.Equal("close", ((InvocationMessage)messages[2]).Target);
    }

    [Theory]
    [InlineData("json", false)]
    [InlineData("json", true)]
    [InlineData("messagepack", false)]
    [InlineData("messagepack", true)]
    public void LongPatch_IsSlicesOfPatchPartThenThePatchWithTheLast_JoiningToTheText(string protocolName, bool reset)
    {
        // Quotes and backslashes (escaped in JSON strings), and two-, three- and four-byte characters, so that cuts fall
        // inside characters and escapes.
        var record = """{"text":"é \"q\" \\ € 😀 </script>","n":12345}""";
        var text = "[" + string.Join(",", Enumerable.Range(0, 4_000).Select(i => $$"""{"op":"add","path":"/messages/{{i}}","value":{{record}}}""")) + "]";
        var framer = SignalREventFramer.ForProtocol(protocolName)!;
        IHubProtocol protocol = protocolName == "json" ? new JsonHubProtocol() : new MessagePackHubProtocol();
        var output = new ArrayBufferWriter<byte>();
        framer.Frame(new LiveEvent("rooms/a", new Cursor(0x2a, 9), Encoding.UTF8.GetBytes(text), reset), output);
        var frame = output.WrittenSpan.ToArray();

        var messages = Parse(protocol, frame, typeof(string)).Cast<InvocationMessage>().ToList();
        var shared = framer.MessagesFor(frame);

        Assert.True(messages.Count > 3, $"{messages.Count} messages");
        Assert.All(messages[..^1], (m, i) => Assert.Equal(["rooms/a", "0000002a.9", i, m.Arguments[3]], m.Arguments));
        Assert.All(messages[..^1], m => Assert.Equal("patchPart", m.Target));
        Assert.Equal("patch", messages[^1].Target);
        Assert.Equal(["rooms/a", "0000002a.9", reset], messages[^1].Arguments[..3]);
        Assert.Equal(text, string.Concat(messages.Select(m => (string)m.Arguments[3]!)));

        // Each message is shared by every connection, cut out of the frame, and no longer than a slice and its framing.
        Assert.Equal(messages.Count, shared.Length);
        Assert.Same(shared, framer.MessagesFor(frame));
        var pieces = shared.Select(m => m.GetSerializedMessage(protocol).ToArray()).ToList();
        Assert.Equal(frame, pieces.SelectMany(p => p).ToArray());
        Assert.All(pieces, p => Assert.InRange(p.Length, 1, RocketHubContract.PartBytes + 128));
        Assert.All(pieces[..^1], p => Assert.True(p.Length > RocketHubContract.PartBytes - 8, $"a slice of {p.Length} bytes"));
    }

    [Fact]
    public void Json_LongRunWithoutEscapes_IsCutAtTheSliceSize()
    {
        var text = "[\"" + new string('x', 200_000) + "\"]";
        var output = new ArrayBufferWriter<byte>();
        SignalREventFramer.Json.Frame(new LiveEvent("messages", new Cursor(0x2a, 9), Encoding.UTF8.GetBytes(text), isReset: false), output);

        var messages = Parse(new JsonHubProtocol(), output.WrittenSpan.ToArray(), typeof(string)).Cast<InvocationMessage>().ToList();

        // 200,006 bytes escaped: three full slices and the rest.
        Assert.Equal(["patchPart", "patchPart", "patchPart", "patch"], messages.Select(m => m.Target));
        Assert.Equal(text, string.Concat(messages.Select(m => (string)m.Arguments[3]!)));
        Assert.Equal(RocketHubContract.PartBytes - 1, ((string)messages[0].Arguments[3]!).Length); // its quote escaped
        Assert.Equal(RocketHubContract.PartBytes, ((string)messages[1].Arguments[3]!).Length);
    }

    [Fact]
    public void Kinds_DifferPerProtocol_AndUnknownProtocolsHaveNoFramer()
    {
        Assert.Equal("signalr.json", SignalREventFramer.Json.Kind);
        Assert.Equal("signalr.messagepack", SignalREventFramer.MessagePack.Kind);
        Assert.Same(SignalREventFramer.Json, SignalREventFramer.ForProtocol("json"));
        Assert.Null(SignalREventFramer.ForProtocol("xml"));
    }

    [Fact]
    public void MessageFor_TheSameFrame_IsOneSharedMessage()
    {
        var frame = Frame(SignalREventFramer.Json, "messages", false);

        var first = SignalREventFramer.Json.MessagesFor(frame)[0];

        Assert.Same(first, SignalREventFramer.Json.MessagesFor(frame)[0]);
        Assert.Equal(frame, first.GetSerializedMessage(new JsonHubProtocol()).Span.ToArray());
        Assert.NotSame(first, SignalREventFramer.Json.MessagesFor(frame.ToArray())[0]);
    }

    private static byte[] Frame(SignalREventFramer framer, string collection, bool reset, long sequence = 7)
    {
        var output = new ArrayBufferWriter<byte>();
        framer.Frame(new LiveEvent(collection, new Cursor(0x2a, sequence), Patch, reset), output);
        return output.WrittenSpan.ToArray();
    }

    private static List<HubMessage> Parse(IHubProtocol protocol, byte[] bytes, Type? patchType)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        var binder = new Binder(patchType ?? typeof(string));
        var messages = new List<HubMessage>();
        while (protocol.TryParseMessage(ref buffer, binder, out var message))
        {
            messages.Add(message);
        }

        Assert.True(buffer.IsEmpty, "bytes left over");
        return messages;
    }

    private sealed class Binder(Type patchType) : IInvocationBinder
    {
        public IReadOnlyList<Type> GetParameterTypes(string methodName) => methodName switch
        {
            "patch" => [typeof(string), typeof(string), typeof(bool), patchType],
            "patchPart" => [typeof(string), typeof(string), typeof(int), typeof(string)],
            "close" => [typeof(string), typeof(string), typeof(string)],
            _ => throw new InvalidOperationException(methodName),
        };

        public Type GetReturnType(string invocationId) => throw new InvalidOperationException();

        public Type GetStreamItemType(string streamId) => throw new InvalidOperationException();
    }
}
