using System;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MessagePack;
using MessagePack.Formatters;

// Rocket's SignalR wire contract, in one file compiled into both sides: the client package (Rocket.Client.SignalR,
// where it lives) and the server package (Rocket.Transports.SignalR, which links it). Neither package references the
// other, and a change to the contract is made here once. docs/signalr.md describes the messages; docs/design.md says
// why a linked file.
namespace Rocket.SignalR;

/// <summary>The names of Rocket's hub contract: where the hub is, what a client invokes, what it receives.</summary>
internal static class RocketHubContract
{
    /// <summary>The hub's default path, where <c>MapRocketHub()</c> maps it.</summary>
    public const string DefaultPath = "/rocket";

    /// <summary>The hub method <c>Subscribe(collection, lastEventId)</c>.</summary>
    public const string Subscribe = "Subscribe";

    /// <summary>The hub method <c>Unsubscribe(collection)</c>.</summary>
    public const string Unsubscribe = "Unsubscribe";

    /// <summary>The client method <c>patch(collection, id, reset, patch)</c>: one event.</summary>
    public const string PatchTarget = "patch";

    /// <summary>
    /// The client method <c>patchPart(collection, id, index, text)</c>: one slice of the JSON text of an event whose
    /// patch is longer than <see cref="PartBytes"/>. Slices come in order, <c>index</c> counting from 0, and the event's
    /// <see cref="PatchTarget"/> message, carrying the last slice as its patch, completes it.
    /// </summary>
    public const string PatchPartTarget = "patchPart";

    /// <summary>
    /// The longest patch sent as one <see cref="PatchTarget"/> message, in bytes of UTF-8 JSON; a longer one is sent in
    /// slices of at most this many bytes on the wire (message framing aside), so that a connection never holds the whole.
    /// </summary>
    public const int PartBytes = 64 * 1024;

    /// <summary>The client method <c>close(collection, status, reason)</c>: Rocket ended that collection's subscription.</summary>
    public const string CloseTarget = "close";

    /// <summary>The parameter types of <see cref="PatchTarget"/>, for <c>HubConnection.On</c>.</summary>
    public static readonly Type[] PatchParameters = [typeof(string), typeof(string), typeof(bool), typeof(HubPatch)];

    /// <summary>The parameter types of <see cref="PatchPartTarget"/>, for <c>HubConnection.On</c>.</summary>
    public static readonly Type[] PatchPartParameters = [typeof(string), typeof(string), typeof(int), typeof(string)];

    /// <summary>The parameter types of <see cref="CloseTarget"/>, for <c>HubConnection.On</c>.</summary>
    public static readonly Type[] CloseParameters = [typeof(string), typeof(string), typeof(string)];
}

/// <summary>
/// The last argument of a <c>patch</c> message, as UTF-8 JSON: with SignalR's JSON protocol it is the array itself,
/// with MessagePack a string holding the same JSON text. Bound as a parameter type, it reads either.
/// </summary>
[JsonConverter(typeof(HubPatchJsonConverter))]
[MessagePackFormatter(typeof(HubPatchMessagePackFormatter))]
internal sealed class HubPatch(byte[] utf8)
{
    public byte[] Utf8 { get; } = utf8;
}

[SuppressMessage("Performance", "CA1812:Avoid uninstantiated internal classes", Justification = "Created by System.Text.Json through [JsonConverter].")]
internal sealed class HubPatchJsonConverter : JsonConverter<HubPatch>
{
    public override HubPatch Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartArray:
                using (var document = JsonDocument.ParseValue(ref reader))
                {
                    return new HubPatch(Encoding.UTF8.GetBytes(document.RootElement.GetRawText()));
                }

            case JsonTokenType.String:
                return new HubPatch(Encoding.UTF8.GetBytes(reader.GetString()!));
            default:
                throw new JsonException("A Rocket patch is a JSON array (or its text).");
        }
    }

    public override void Write(Utf8JsonWriter writer, HubPatch value, JsonSerializerOptions options) =>
        throw new NotSupportedException("Patches are read with this type; Rocket's server writes them pre-framed (SignalREventFramer).");
}

[SuppressMessage("Performance", "CA1812:Avoid uninstantiated internal classes", Justification = "Created by MessagePack through [MessagePackFormatter].")]
internal sealed class HubPatchMessagePackFormatter : IMessagePackFormatter<HubPatch?>
{
    public HubPatch? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        if (reader.TryReadStringSpan(out var span))
        {
            return new HubPatch(span.ToArray());
        }

        return new HubPatch(Encoding.UTF8.GetBytes(reader.ReadString() ?? throw new MessagePackSerializationException("A Rocket patch is a string.")));
    }

    public void Serialize(ref MessagePackWriter writer, HubPatch? value, MessagePackSerializerOptions options) =>
        throw new NotSupportedException("Patches are read with this type; Rocket's server writes them pre-framed (SignalREventFramer).");
}
