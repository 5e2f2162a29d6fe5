using System;
using System.Text;
using System.Text.Json.Serialization;
using MessagePack;

namespace Rocket.Transports.SignalR;

/// <summary>
/// One item of <see cref="RocketHub"/>'s <c>Subscribe</c> stream: the event of a collection, with its cursor, whether it
/// is a reset, and its JSON Patch. The same type reads the items back on a .NET client
/// (<c>HubConnection.StreamAsync&lt;RocketHubEvent&gt;</c>), over either hub protocol.
/// </summary>
/// <remarks>
/// <para>On the wire it is a map of four members, in this order:</para>
/// <list type="bullet">
/// <item><c>collection</c>: the collection's name (string).</item>
/// <item><c>id</c>: the event's cursor (string, <c>&lt;8 hex epoch&gt;.&lt;sequence&gt;</c>), the <c>lastEventId</c> to resume from.</item>
/// <item><c>reset</c>: <see langword="true"/> for a reset, whose patch is one <c>replace</c> of the whole keyed document.</item>
/// <item><c>patch</c>: the RFC 6902 JSON Patch. With the JSON hub protocol it is the JSON array itself; with the
/// MessagePack protocol it is a string holding the same JSON text (a client parses it with <c>JSON.parse</c>).</item>
/// </list>
/// <para>
/// Either way the patch bytes are a copy of the ones the collection encoded once: no per-connection conversion, and the
/// numbers and strings a client sees are exactly the ones every other transport carries.
/// </para>
/// </remarks>
[JsonConverter(typeof(RocketHubEventJsonConverter))]
[MessagePackFormatter(typeof(RocketHubEventMessagePackFormatter))]
public sealed class RocketHubEvent
{
    // Server side the event points into the frame shared by every SignalR subscriber: flag, cursor, LF, patch.
    private readonly ReadOnlyMemory<byte> _utf8Id;
    private string? _id;

    /// <summary>Creates an item, as a client that read one does.</summary>
    /// <param name="collection">The collection's name.</param>
    /// <param name="id">The cursor text.</param>
    /// <param name="reset">Whether it is a reset.</param>
    /// <param name="utf8Patch">The JSON Patch array as UTF-8 JSON.</param>
    public RocketHubEvent(string collection, string id, bool reset, ReadOnlyMemory<byte> utf8Patch)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(id);
        Collection = collection;
        _id = id;
        _utf8Id = Encoding.UTF8.GetBytes(id);
        Reset = reset;
        Patch = utf8Patch;
    }

    // The frame was written by SignalREventFramer; it is trusted, so it is split, not validated.
    internal RocketHubEvent(string collection, ReadOnlyMemory<byte> frame)
    {
        var newline = frame.Span.IndexOf((byte)'\n');
        Collection = collection;
        Reset = frame.Span[0] == SignalREventFramer.ResetFlag;
        _utf8Id = frame[1..newline];
        Patch = frame[(newline + 1)..];
    }

    /// <summary>The collection's name.</summary>
    public string Collection { get; }

    /// <summary>The event's cursor: pass it as <c>lastEventId</c> to resume after this event.</summary>
    public string Id => _id ??= Encoding.ASCII.GetString(_utf8Id.Span);

    /// <summary>Whether the event is a reset: <c>[{"op":"replace","path":"","value":{keyed document}}]</c>.</summary>
    public bool Reset { get; }

    /// <summary>The JSON Patch array as UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> Patch { get; }

    internal ReadOnlySpan<byte> Utf8Id => _utf8Id.Span;

    /// <inheritdoc/>
    public override string ToString() => $"{Id} {Encoding.UTF8.GetString(Patch.Span)}";
}
