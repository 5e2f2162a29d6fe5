using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rocket.JsonPatch;

/// <summary>
/// JSON value equality as RFC 6902 section 4.6 defines it for <c>test</c>: same type; strings equal code point by
/// code point; numbers equal by value (<c>1</c>, <c>1.0</c> and <c>1e0</c> are equal, <c>1</c> and <c>"1"</c> are
/// not); arrays element by element in order; objects with the same member names, each with an equal value, in any order.
/// </summary>
public static class JsonValueEquality
{
    /// <summary>Whether a node (<see langword="null"/> is JSON null) equals an element.</summary>
    public static bool Equals(JsonNode? node, JsonElement element)
    {
        switch (node)
        {
            case null:
                return element.ValueKind == JsonValueKind.Null;

            case JsonObject obj:
                if (element.ValueKind != JsonValueKind.Object || obj.Count != element.GetPropertyCount())
                {
                    return false;
                }

                foreach (var member in element.EnumerateObject())
                {
                    if (!obj.TryGetPropertyValue(member.Name, out var child) || !Equals(child, member.Value))
                    {
                        return false;
                    }
                }

                return true;

            case JsonArray array:
                if (element.ValueKind != JsonValueKind.Array || array.Count != element.GetArrayLength())
                {
                    return false;
                }

                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (!Equals(array[i++], item))
                    {
                        return false;
                    }
                }

                return true;

            default:
                // A value node holds either an element (parsed JSON) or a .NET value; compare as elements. Numbers by
                // their text's value: DeepEquals throws for an exponent past int's range, which JSON allows.
                var own = node.AsValue().TryGetValue<JsonElement>(out var parsed) ? parsed : ToElement(node);
                return own.ValueKind == JsonValueKind.Number && element.ValueKind == JsonValueKind.Number
                    ? NumberEquals(own, element)
                    : JsonElement.DeepEquals(own, element);
        }
    }

    /// <summary>Whether two number elements have the same value, at any size and precision.</summary>
    internal static bool NumberEquals(JsonElement left, JsonElement right) =>
        JsonNumberText.ValueEquals(JsonMarshal.GetRawUtf8Value(left), JsonMarshal.GetRawUtf8Value(right));

    /// <summary>Whether two nodes are equal as JSON values.</summary>
    public static bool Equals(JsonNode? left, JsonNode? right) => Equals(left, ToElement(right));

    private static JsonElement ToElement(JsonNode? node)
    {
        if (node is JsonValue value && value.TryGetValue<JsonElement>(out var element))
        {
            return element;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (node is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                node.WriteTo(writer);
            }
        }

        return JsonElement.Parse(buffer.WrittenSpan);
    }
}
