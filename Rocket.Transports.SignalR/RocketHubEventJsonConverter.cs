using System;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rocket.Transports.SignalR;

/// <summary>
/// The JSON hub protocol's form of <see cref="RocketHubEvent"/>:
/// <c>{"collection":"messages","id":"7f3a09c1.42","reset":false,"patch":[...]}</c>, the patch written as the raw JSON
/// array it already is, so a JavaScript client gets an array and nothing is re-encoded or escaped.
/// </summary>
[SuppressMessage("Performance", "CA1812:Avoid uninstantiated internal classes", Justification = "Created by System.Text.Json through [JsonConverter] on RocketHubEvent.")]
internal sealed class RocketHubEventJsonConverter : JsonConverter<RocketHubEvent>
{
    public override void Write(Utf8JsonWriter writer, RocketHubEvent value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("collection"u8, value.Collection);
        writer.WriteString("id"u8, value.Utf8Id);
        writer.WriteBoolean("reset"u8, value.Reset);
        writer.WritePropertyName("patch"u8);

        // Written by JsonPatchWriter and checked there: validating it again per connection would only cost time.
        writer.WriteRawValue(value.Patch.Span, skipInputValidation: true);
        writer.WriteEndObject();
    }

    public override RocketHubEvent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A Rocket hub event is a JSON object.");
        }

        string? collection = null;
        string? id = null;
        var reset = false;
        byte[]? patch = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "collection":
                    collection = reader.GetString();
                    break;
                case "id":
                    id = reader.GetString();
                    break;
                case "reset":
                    reset = reader.GetBoolean();
                    break;
                case "patch" when reader.TokenType == JsonTokenType.String:
                    // Also accept the patch as JSON text, the form it has under MessagePack.
                    patch = Encoding.UTF8.GetBytes(reader.GetString()!);
                    break;
                case "patch":
                    using (var document = JsonDocument.ParseValue(ref reader))
                    {
                        // The text as sent, escapes and all: the same bytes every other transport carries.
                        patch = Encoding.UTF8.GetBytes(document.RootElement.GetRawText());
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (collection is null || id is null || patch is null)
        {
            throw new JsonException("A Rocket hub event needs 'collection', 'id' and 'patch'.");
        }

        return new RocketHubEvent(collection, id, reset, patch);
    }
}
