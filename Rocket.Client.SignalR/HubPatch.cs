using System;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MessagePack;
using MessagePack.Formatters;

namespace Rocket.Client.SignalR;

// The last argument of the hub's `patch(collection, id, reset, patch)` message, as UTF-8 JSON. The client's own copy of
// the wire format (docs/signalr.md), so this package needs nothing of the server's: with the JSON protocol the patch is
// the array itself, with MessagePack a string holding the same JSON text.
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
        throw new NotSupportedException("The client only reads patches.");
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
        throw new NotSupportedException("The client only reads patches.");
}
