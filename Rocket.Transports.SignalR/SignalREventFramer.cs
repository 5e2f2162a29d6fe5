using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Rocket.Live;

namespace Rocket.Transports.SignalR;

/// <summary>
/// Frames an event once per hub protocol as the complete SignalR message every connection of that protocol receives:
/// an invocation, without an invocation id, of the client method <c>patch(collection, id, reset, patch)</c>.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Json"/> writes SignalR's JSON protocol (<c>{"type":1,"target":"patch","arguments":[...]}</c> and the
/// record separator 0x1E), the patch as the JSON array itself; <see cref="MessagePack"/> writes SignalR's MessagePack
/// protocol (the length prefix, then <c>[1, {}, nil, "patch", [...], []]</c>), the patch as a string holding the JSON
/// text. Both carry the patch byte for byte, so the collection keeps the event's patch inside the frame.
/// </para>
/// <para>
/// The bytes are the same for every connection of the protocol, so the transport writes them as they are
/// (a <see cref="SerializedHubMessage"/> holding them), and the hub protocol never serializes anything per subscriber.
/// </para>
/// </remarks>
internal sealed class SignalREventFramer : IEventFramer
{
    // The SignalR message type of an invocation, and the record separator that ends a JSON protocol message.
    private const byte InvocationType = 1;
    private const byte RecordSeparator = 0x1e;

    // Escapes only what JSON requires (a collection name is the app's own, and never ends up in HTML).
    private static readonly JsonWriterOptions NameWriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // A collection's name as each protocol writes it: collections are registered, so this stays small.
    private static readonly ConcurrentDictionary<string, EncodedName> Names = new(StringComparer.Ordinal);

    // The pre-serialized message of each frame, kept as long as the frame itself: every connection writing the same
    // event shares one (built by the first to write it), however far apart the subscribers are in the log. Lookups do
    // not lock; an entry is added once per event and protocol.
    private readonly ConditionalWeakTable<byte[], SerializedHubMessage> _messages = new();
    private readonly ConditionalWeakTable<byte[], SerializedHubMessage>.CreateValueCallback _wrapFrame;
    private readonly bool _json;

    private SignalREventFramer(bool json, string protocolName)
    {
        _json = json;
        ProtocolName = protocolName;
        _wrapFrame = frame => Wrap(frame);
        Kind = "signalr." + protocolName;
    }

    /// <summary>The framer for SignalR's JSON hub protocol (<c>json</c>).</summary>
    public static SignalREventFramer Json { get; } = new(json: true, "json");

    /// <summary>The framer for SignalR's MessagePack hub protocol (<c>messagepack</c>).</summary>
    public static SignalREventFramer MessagePack { get; } = new(json: false, "messagepack");

    /// <summary><c>signalr.json</c> or <c>signalr.messagepack</c>.</summary>
    public string Kind { get; }

    /// <summary>The name of the hub protocol it writes, as SignalR knows it (<c>IHubProtocol.Name</c>).</summary>
    public string ProtocolName { get; }

    /// <summary>The framer for a hub protocol's name, or <see langword="null"/> for a protocol Rocket does not write.</summary>
    public static SignalREventFramer? ForProtocol(string protocolName) => protocolName switch
    {
        "json" => Json,
        "messagepack" => MessagePack,
        _ => null,
    };

    /// <inheritdoc/>
    public void Frame(LiveEvent liveEvent, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(liveEvent);
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> cursor = stackalloc byte[Cursor.MaxLength];
        liveEvent.Cursor.TryFormat(cursor, out var cursorLength);
        cursor = cursor[..cursorLength];
        var name = Name(liveEvent.Collection);
        var patch = liveEvent.Patch.Span;
        if (_json)
        {
            WriteJson(output, "patch"u8, name.Json, cursor, liveEvent.IsReset ? "true"u8 : "false"u8, patch, patchIsString: false);
        }
        else
        {
            WriteMessagePack(output, "patch"u8, name.Utf8, cursor, liveEvent.IsReset, patch);
        }
    }

    /// <summary>
    /// The message <c>close(collection, status, reason)</c> in this protocol: Rocket ended that collection's
    /// subscription, and the client subscribes again with its last id.
    /// </summary>
    public byte[] FrameClose(string collection, CloseReason reason)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(reason);
        var output = new ArrayBufferWriter<byte>(256);
        var status = Encoding.UTF8.GetBytes(reason.Status.ToString());
        var description = Encoding.UTF8.GetBytes(reason.Description);
        var name = Name(collection);
        if (_json)
        {
            // The status is an ASCII enum name; the description is one ASCII-or-UTF-8 line, escaped as a JSON string.
            var quoted = new ArrayBufferWriter<byte>(description.Length + 8);
            using (var writer = new Utf8JsonWriter(quoted, NameWriterOptions))
            {
                writer.WriteStringValue(reason.Description);
            }

            WriteJson(output, "close"u8, name.Json, status, [], quoted.WrittenSpan, patchIsString: true);
        }
        else
        {
            WriteMessagePack(output, "close"u8, name.Utf8, status, reset: null, description);
        }

        return output.WrittenSpan.ToArray();
    }

    // The one SerializedHubMessage of a frame for this protocol, shared by every connection that writes it.
    internal SerializedHubMessage MessageFor(ReadOnlyMemory<byte> frame)
    {
        // Rocket's frames are whole arrays; anything else is wrapped on its own.
        return MemoryMarshal.TryGetArray(frame, out var segment) && segment.Array is { } array && segment.Offset == 0 && segment.Count == array.Length
            ? _messages.GetValue(array, _wrapFrame)
            : Wrap(frame);
    }

    // Bytes of this protocol (one message or several joined) as a message SignalR writes without serializing.
    internal SerializedHubMessage Wrap(ReadOnlyMemory<byte> bytes) => new([new SerializedMessage(ProtocolName, bytes)]);

    private static EncodedName Name(string collection)
    {
        if (Names.TryGetValue(collection, out var name))
        {
            return name;
        }

        var quoted = new ArrayBufferWriter<byte>(collection.Length + 8);
        using (var writer = new Utf8JsonWriter(quoted, NameWriterOptions))
        {
            writer.WriteStringValue(collection);
        }

        return Names.GetOrAdd(collection, new EncodedName(quoted.WrittenSpan.ToArray(), Encoding.UTF8.GetBytes(collection)));
    }

    // {"type":1,"target":"<target>","arguments":[<name>,"<second>",<third>,<last>]}<RS>; for a close, the third
    // argument is the last one and `last` is already a JSON string (patchIsString), for a patch it is the raw array.
    private static void WriteJson(IBufferWriter<byte> output, ReadOnlySpan<byte> target, ReadOnlySpan<byte> quotedName, ReadOnlySpan<byte> second, ReadOnlySpan<byte> third, ReadOnlySpan<byte> last, bool patchIsString)
    {
        var length = 64 + target.Length + quotedName.Length + second.Length + third.Length + last.Length;
        var span = output.GetSpan(length);
        var at = 0;
        Put(span, ref at, "{\"type\":1,\"target\":\""u8);
        Put(span, ref at, target);
        Put(span, ref at, "\",\"arguments\":["u8);
        Put(span, ref at, quotedName);
        Put(span, ref at, ",\""u8);
        Put(span, ref at, second);
        Put(span, ref at, "\","u8);
        if (!patchIsString)
        {
            Put(span, ref at, third);
            span[at++] = (byte)',';
        }

        Put(span, ref at, last);
        Put(span, ref at, "]}"u8);
        span[at++] = RecordSeparator;
        output.Advance(at);
    }

    // The length prefix (a base-128 varint), then [1, {}, nil, "<target>", [<name>, <second>, (<reset>,) <last>], []]:
    // the array SignalR's MessagePack protocol writes for an invocation without id (headers empty, no stream ids).
    private static void WriteMessagePack(IBufferWriter<byte> output, ReadOnlySpan<byte> target, ReadOnlySpan<byte> name, ReadOnlySpan<byte> second, bool? reset, ReadOnlySpan<byte> last)
    {
        var body = 1 + 1 + 1 + 1 + StrLength(target.Length) + 1 + StrLength(name.Length) + StrLength(second.Length)
            + (reset is null ? 0 : 1) + StrLength(last.Length) + 1;
        var span = output.GetSpan(5 + body);
        var at = 0;
        var remaining = (uint)body;
        do
        {
            var b = (byte)(remaining & 0x7f);
            remaining >>= 7;
            span[at++] = remaining == 0 ? b : (byte)(b | 0x80);
        }
        while (remaining != 0);

        span[at++] = 0x96;              // array of 6
        span[at++] = InvocationType;    // positive fixint 1
        span[at++] = 0x80;              // headers: empty map
        span[at++] = 0xc0;              // invocation id: nil
        PutStr(span, ref at, target);
        span[at++] = reset is null ? (byte)0x93 : (byte)0x94;
        PutStr(span, ref at, name);
        PutStr(span, ref at, second);
        if (reset is { } flag)
        {
            span[at++] = flag ? (byte)0xc3 : (byte)0xc2;
        }

        PutStr(span, ref at, last);
        span[at++] = 0x90;              // stream ids: empty array
        output.Advance(at);
    }

    private static int StrLength(int length) => length switch
    {
        < 32 => 1 + length,
        < 256 => 2 + length,
        < 65536 => 3 + length,
        _ => 5 + length,
    };

    private static void PutStr(Span<byte> span, ref int at, ReadOnlySpan<byte> utf8)
    {
        switch (utf8.Length)
        {
            case < 32:
                span[at++] = (byte)(0xa0 | utf8.Length);
                break;
            case < 256:
                span[at++] = 0xd9;
                span[at++] = (byte)utf8.Length;
                break;
            case < 65536:
                span[at++] = 0xda;
                BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)utf8.Length);
                at += 2;
                break;
            default:
                span[at++] = 0xdb;
                BinaryPrimitives.WriteUInt32BigEndian(span[at..], (uint)utf8.Length);
                at += 4;
                break;
        }

        Put(span, ref at, utf8);
    }

    private static void Put(Span<byte> span, ref int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[at..]);
        at += bytes.Length;
    }

    private sealed record EncodedName(byte[] Json, byte[] Utf8);
}
