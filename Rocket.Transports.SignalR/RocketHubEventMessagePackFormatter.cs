using System;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using MessagePack;
using MessagePack.Formatters;

namespace Rocket.Transports.SignalR;

/// <summary>
/// The MessagePack hub protocol's form of <see cref="RocketHubEvent"/>: a map with the same four keys as the JSON form,
/// the patch a MessagePack string holding the JSON Patch text.
/// </summary>
/// <remarks>
/// The patch stays JSON text on purpose: it is a copy of the bytes every other transport sends (no transcoding per event,
/// no difference in how numbers or strings come out), and a client turns it into the same array with <c>JSON.parse</c>.
/// </remarks>
[SuppressMessage("Performance", "CA1812:Avoid uninstantiated internal classes", Justification = "Created by MessagePack through [MessagePackFormatter] on RocketHubEvent.")]
internal sealed class RocketHubEventMessagePackFormatter : IMessagePackFormatter<RocketHubEvent?>
{
    public void Serialize(ref MessagePackWriter writer, RocketHubEvent? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteMapHeader(4);
        writer.WriteString("collection"u8);
        writer.Write(value.Collection);
        writer.WriteString("id"u8);
        writer.WriteString(value.Utf8Id);
        writer.WriteString("reset"u8);
        writer.Write(value.Reset);
        writer.WriteString("patch"u8);
        writer.WriteString(value.Patch.Span);
    }

    public RocketHubEvent? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        string? collection = null;
        string? id = null;
        var reset = false;
        byte[]? patch = null;
        var count = reader.ReadMapHeader();
        for (var i = 0; i < count; i++)
        {
            switch (reader.ReadString())
            {
                case "collection":
                    collection = reader.ReadString();
                    break;
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

        if (collection is null || id is null || patch is null)
        {
            throw new MessagePackSerializationException("A Rocket hub event needs 'collection', 'id' and 'patch'.");
        }

        return new RocketHubEvent(collection, id, reset, patch);
    }
}
