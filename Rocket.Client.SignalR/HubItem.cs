using System;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MessagePack;
using MessagePack.Formatters;

namespace Rocket.Client.SignalR;

// One item of the hub's Subscribe stream: {collection, id, reset, patch}. The client's own copy of the wire format
// (docs/signalr.md), so this package needs nothing of the server's: with JSON the patch is the array itself, with
// MessagePack a string holding the same JSON text.
[JsonConverter(typeof(HubItemJsonConverter))]
[MessagePackFormatter(typeof(HubItemMessagePackFormatter))]
internal sealed class HubItem
{
    public HubItem(string id, bool reset, byte[] patch)
    {
        Id = id;
        Reset = reset;
        Patch = patch;
    }

    public string Id { get; }

    public bool Reset { get; }

    public byte[] Patch { get; }
}

[SuppressMessage("Performance", "CA1812:Avoid uninstantiated internal classes", Justification = "Created by System.Text.Json through [JsonConverter].")]
internal sealed class HubItemJsonConverter : JsonConverter<HubItem>
{
    public override HubItem Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A Rocket hub event is a JSON object.");
        }

        string? id = null;
        var reset = false;
        byte[]? patch = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "id":
                    id = reader.GetString();
                    break;
                case "reset":
                    reset = reader.GetBoolean();
                    break;
                case "patch" when reader.TokenType == JsonTokenType.String:
                    patch = Encoding.UTF8.GetBytes(reader.GetString()!);
                    break;
                case "patch":
                    using (var document = JsonDocument.ParseValue(ref reader))
                    {
                        patch = Encoding.UTF8.GetBytes(document.RootElement.GetRawText());
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return id is null || patch is null
            ? throw new JsonException("A Rocket hub event needs 'id' and 'patch'.")
            : new HubItem(id, reset, patch);
    }

    public override void Write(Utf8JsonWriter writer, HubItem value, JsonSerializerOptions options) =>
        throw new NotSupportedException("The client only reads hub events.");
}

[SuppressMessage("Performance", "CA1812:Avoid uninstantiated internal classes", Justification = "Created by MessagePack through [MessagePackFormatter].")]
internal sealed class HubItemMessagePackFormatter : IMessagePackFormatter<HubItem?>
{
    public HubItem? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        string? id = null;
        var reset = false;
        byte[]? patch = null;
        var count = reader.ReadMapHeader();
        for (var i = 0; i < count; i++)
        {
            switch (reader.ReadString())
            {
                case "id":
                    id = reader.ReadString();
                    break;
                case "reset":
                    reset = reader.ReadBoolean();
                    break;
                case "patch":
                    patch = Encoding.UTF8.GetBytes(reader.ReadString() ?? string.Empty);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return id is null || patch is null
            ? throw new MessagePackSerializationException("A Rocket hub event needs 'id' and 'patch'.")
            : new HubItem(id, reset, patch);
    }

    public void Serialize(ref MessagePackWriter writer, HubItem? value, MessagePackSerializerOptions options) =>
        throw new NotSupportedException("The client only reads hub events.");
}
