using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Rocket.Live;
using Rocket.SignalR;

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
/// A patch longer than <see cref="RocketHubContract.PartBytes"/> is framed as several messages back to back:
/// <c>patchPart(collection, id, index, slice)</c> for each slice of its JSON text but the last, then
/// <c>patch(collection, id, reset, lastSlice)</c> (docs/signalr.md, "Large events"), so that the transport can hand a
/// connection one message at a time. Such a frame does not hold the patch byte for byte (JSON escapes it, MessagePack
/// cuts it), so the collection keeps the patch apart.
/// </para>
/// <para>
/// The bytes are the same for every connection of the protocol, so the transport writes them as they are
/// (<see cref="SerializedHubMessage"/>s holding them, one per message), and the hub protocol never serializes anything
/// per subscriber.
/// </para>
/// </remarks>
internal sealed class SignalREventFramer : IEventFramer
{
    // The SignalR message type of an invocation, and the record separator that ends a JSON protocol message.
    private const byte InvocationType = 1;
    private const byte RecordSeparator = 0x1e;

    // Escapes only what JSON requires (a collection name is the app's own, and never ends up in HTML).
    private static readonly JsonWriterOptions NameWriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // What a JSON string cannot hold as it is: the quote, the backslash and the control characters.
    private static readonly SearchValues<byte> MustEscape = SearchValues.Create([.. Enumerable.Range(0, 0x20).Select(static b => (byte)b), (byte)'"', (byte)'\\']);

    private static readonly byte[] Hex = "0123456789abcdef"u8.ToArray();

    // A collection's name as each protocol writes it: collections are registered, so this stays small.
    private static readonly ConcurrentDictionary<string, EncodedName> Names = new(StringComparer.Ordinal);

    // The pre-serialized message of each frame, kept as long as the frame itself: every connection writing the same
    // event shares one (built by the first to write it), however far apart the subscribers are in the log. Lookups do
    // not lock; an entry is added once per event and protocol.
    private readonly ConditionalWeakTable<byte[], SerializedHubMessage[]> _messages = new();
    private readonly ConditionalWeakTable<byte[], SerializedHubMessage[]>.CreateValueCallback _wrapFrame;
    private readonly bool _json;

    private SignalREventFramer(bool json, string protocolName)
    {
        _json = json;
        ProtocolName = protocolName;
        _wrapFrame = frame => Split(frame);
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
        if (patch.Length > RocketHubContract.PartBytes)
        {
            FrameInParts(output, name, cursor, liveEvent.IsReset, patch);
        }
        else if (_json)
        {
            WriteJson(output, "patch"u8, name.Json, cursor, liveEvent.IsReset ? "true"u8 : "false"u8, patch, patchIsString: false);
        }
        else
        {
            WriteMessagePack(output, "patch"u8, name.Utf8, cursor, liveEvent.IsReset, patch);
        }
    }

    // A long patch: patchPart(collection, id, index, slice) messages, then patch(collection, id, reset, lastSlice), each
    // at most PartBytes of text on the wire, so that a connection can be handed one message at a time. Slices end on
    // UTF-8 character boundaries: each is a string of its own (JSON: escaped in a JSON string; MessagePack: a str).
    private void FrameInParts(IBufferWriter<byte> output, EncodedName name, ReadOnlySpan<byte> cursor, bool reset, ReadOnlySpan<byte> patch)
    {
        Span<byte> digits = stackalloc byte[11];
        var at = 0;
        for (var index = 0; ; index++)
        {
            var rest = patch[at..];
            int length, escaped;
            if (_json)
            {
                length = JsonSlice(rest, out escaped);
            }
            else
            {
                length = Utf8Slice(rest);
                escaped = length;
            }

            var slice = rest[..length];
            var last = length == rest.Length;
            if (_json)
            {
                scoped ReadOnlySpan<byte> third;
                if (last)
                {
                    third = reset ? "true"u8 : "false"u8;
                }
                else
                {
                    index.TryFormat(digits, out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
                    third = digits[..written];
                }

                WriteJsonSlice(output, last ? "patch"u8 : "patchPart"u8, name.Json, cursor, third, slice, escaped);
            }
            else if (last)
            {
                WriteMessagePack(output, "patch"u8, name.Utf8, cursor, reset, slice);
            }
            else
            {
                WriteMessagePackPart(output, name.Utf8, cursor, index, slice);
            }

            if (last)
            {
                return;
            }

            at += length;
        }
    }

    // How many bytes of `text` go into the next slice so that, escaped as a JSON string, it is at most PartBytes long
    // (`escaped`, an upper bound), ending on a UTF-8 character boundary.
    private static int JsonSlice(ReadOnlySpan<byte> text, out int escaped)
    {
        var budget = RocketHubContract.PartBytes;
        var at = 0;
        escaped = 0;
        while (at < text.Length)
        {
            // Searched no further than the budget left, so a long run without escapes is scanned once.
            var window = Math.Min(text.Length - at, budget - escaped);
            var plain = text.Slice(at, window).IndexOfAny(MustEscape);
            if (plain < 0)
            {
                // The rest of the text or of the budget: either way the slice ends here.
                at += window;
                escaped += window;
                break;
            }

            at += plain;
            escaped += plain;
            var cost = EscapedLength(text[at]);
            if (escaped + cost > budget)
            {
                break;
            }

            escaped += cost;
            at++;
        }

        return BackToCharacter(text, at);
    }

    private static int Utf8Slice(ReadOnlySpan<byte> text) => BackToCharacter(text, Math.Min(text.Length, RocketHubContract.PartBytes));

    // A cut inside a multi-byte character moves back to its first byte (continuation bytes are 10xxxxxx).
    private static int BackToCharacter(ReadOnlySpan<byte> text, int at)
    {
        while (at < text.Length && at > 0 && (text[at] & 0xc0) == 0x80)
        {
            at--;
        }

        return at;
    }

    private static int EscapedLength(byte b) => b switch
    {
        (byte)'"' or (byte)'\\' or (byte)'\n' or (byte)'\r' or (byte)'\t' or (byte)'\b' or (byte)'\f' => 2,
        _ => 6,
    };

    // {"type":1,"target":"<target>","arguments":[<name>,"<cursor>",<third>,"<slice, escaped>"]}<RS>
    private static void WriteJsonSlice(IBufferWriter<byte> output, ReadOnlySpan<byte> target, ReadOnlySpan<byte> quotedName, ReadOnlySpan<byte> cursor, ReadOnlySpan<byte> third, ReadOnlySpan<byte> slice, int escaped)
    {
        var span = output.GetSpan(64 + target.Length + quotedName.Length + cursor.Length + third.Length + escaped);
        var at = 0;
        PutJsonHead(span, ref at, target, quotedName, cursor);
        Put(span, ref at, third);
        Put(span, ref at, ",\""u8);
        while (!slice.IsEmpty)
        {
            var plain = slice.IndexOfAny(MustEscape);
            if (plain < 0)
            {
                Put(span, ref at, slice);
                break;
            }

            Put(span, ref at, slice[..plain]);
            var b = slice[plain];
            span[at++] = (byte)'\\';
            switch (b)
            {
                case (byte)'"' or (byte)'\\':
                    span[at++] = b;
                    break;
                case (byte)'\n':
                    span[at++] = (byte)'n';
                    break;
                case (byte)'\r':
                    span[at++] = (byte)'r';
                    break;
                case (byte)'\t':
                    span[at++] = (byte)'t';
                    break;
                case (byte)'\b':
                    span[at++] = (byte)'b';
                    break;
                case (byte)'\f':
                    span[at++] = (byte)'f';
                    break;
                default:
                    Put(span, ref at, "u00"u8);
                    span[at++] = Hex[b >> 4];
                    span[at++] = Hex[b & 0xf];
                    break;
            }

            slice = slice[(plain + 1)..];
        }

        Put(span, ref at, "\"]}"u8);
        span[at++] = RecordSeparator;
        output.Advance(at);
    }

    // [1, {}, nil, "patchPart", [<name>, <cursor>, <index>, <slice>], []] after its length prefix.
    private static void WriteMessagePackPart(IBufferWriter<byte> output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> cursor, int index, ReadOnlySpan<byte> slice)
    {
        var indexLength = index < 128 ? 1 : index < 65536 ? 3 : 5;
        var body = 1 + 1 + 1 + 1 + StrLength("patchPart"u8.Length) + 1 + StrLength(name.Length) + StrLength(cursor.Length)
            + indexLength + StrLength(slice.Length) + 1;
        var span = output.GetSpan(5 + body);
        var at = 0;
        PutLengthPrefix(span, ref at, body);
        span[at++] = 0x96;              // array of 6
        span[at++] = InvocationType;    // positive fixint 1
        span[at++] = 0x80;              // headers: empty map
        span[at++] = 0xc0;              // invocation id: nil
        PutStr(span, ref at, "patchPart"u8);
        span[at++] = 0x94;
        PutStr(span, ref at, name);
        PutStr(span, ref at, cursor);
        switch (indexLength)
        {
            case 1:
                span[at++] = (byte)index;   // positive fixint
                break;
            case 3:
                span[at++] = 0xcd;          // uint 16
                BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)index);
                at += 2;
                break;
            default:
                span[at++] = 0xce;          // uint 32
                BinaryPrimitives.WriteUInt32BigEndian(span[at..], (uint)index);
                at += 4;
                break;
        }

        PutStr(span, ref at, slice);
        span[at++] = 0x90;              // stream ids: empty array
        output.Advance(at);
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

    // The SerializedHubMessages of a frame for this protocol, shared by every connection that writes it: one for an
    // event sent as one message, one per message for an event sent in parts (each a slice of the frame, not a copy).
    internal SerializedHubMessage[] MessagesFor(ReadOnlyMemory<byte> frame)
    {
        // Rocket's frames are whole arrays; anything else is wrapped on its own.
        return MemoryMarshal.TryGetArray(frame, out var segment) && segment.Array is { } array && segment.Offset == 0 && segment.Count == array.Length
            ? _messages.GetValue(array, _wrapFrame)
            : Split(frame);
    }

    // Cuts a frame at its messages' ends: JSON messages end with the record separator (which JSON text only holds
    // escaped), MessagePack ones are as long as their length prefix says.
    private SerializedHubMessage[] Split(ReadOnlyMemory<byte> frame)
    {
        if (frame.Length <= RocketHubContract.PartBytes)
        {
            return [Wrap(frame)];
        }

        var messages = new List<SerializedHubMessage>();
        var rest = frame;
        while (!rest.IsEmpty)
        {
            int length;
            if (_json)
            {
                var end = rest.Span.IndexOf(RecordSeparator);
                length = end < 0 ? rest.Length : end + 1;
            }
            else
            {
                var span = rest.Span;
                var body = 0;
                var at = 0;
                for (var shift = 0; at < span.Length && at < 5; shift += 7)
                {
                    var b = span[at++];
                    body |= (b & 0x7f) << shift;
                    if ((b & 0x80) == 0)
                    {
                        break;
                    }
                }

                length = Math.Min(rest.Length, at + body);
            }

            messages.Add(Wrap(rest[..length]));
            rest = rest[length..];
        }

        return [.. messages];
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
        PutJsonHead(span, ref at, target, quotedName, second);
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
        PutLengthPrefix(span, ref at, body);

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

    // SignalR's MessagePack length prefix: the body's length as a base-128 varint.
    private static void PutLengthPrefix(Span<byte> span, ref int at, int body)
    {
        var remaining = (uint)body;
        do
        {
            var b = (byte)(remaining & 0x7f);
            remaining >>= 7;
            span[at++] = remaining == 0 ? b : (byte)(b | 0x80);
        }
        while (remaining != 0);
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

    // A JSON protocol invocation up to its third argument: {"type":1,"target":"<target>","arguments":[<name>,"<second>",
    private static void PutJsonHead(Span<byte> span, ref int at, ReadOnlySpan<byte> target, ReadOnlySpan<byte> quotedName, ReadOnlySpan<byte> second)
    {
        Put(span, ref at, "{\"type\":1,\"target\":\""u8);
        Put(span, ref at, target);
        Put(span, ref at, "\",\"arguments\":["u8);
        Put(span, ref at, quotedName);
        Put(span, ref at, ",\""u8);
        Put(span, ref at, second);
        Put(span, ref at, "\","u8);
    }

    private static void Put(Span<byte> span, ref int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[at..]);
        at += bytes.Length;
    }

    private sealed record EncodedName(byte[] Json, byte[] Utf8);
}
