using System;
using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rocket.JsonPatch;

/// <summary>
/// The <c>value</c> of an operation, held compactly: literals and integers in place, strings as strings, objects and
/// arrays the parser read as a <see cref="PatchContainer"/> tree of these, and only other numbers (and values given
/// as elements by the factory methods) as a <see cref="JsonElement"/>. Parsing a patch builds no
/// <see cref="JsonDocument"/> unless a number needs one.
/// </summary>
internal readonly struct PatchValue
{
    private static readonly JsonElement NullElement = JsonElement.Parse("null"u8);
    private static readonly JsonElement TrueElement = JsonElement.Parse("true"u8);
    private static readonly JsonElement FalseElement = JsonElement.Parse("false"u8);

    // A string for String; a boxed JsonElement for Element; a PatchContainer for Container; null otherwise.
    private readonly object? _reference;
    private readonly long _integer;

    private PatchValue(PatchValueKind kind, object? reference, long integer)
    {
        Kind = kind;
        _reference = reference;
        _integer = integer;
    }

    public PatchValueKind Kind { get; }

    public static PatchValue None => default;

    public static PatchValue Null => new(PatchValueKind.Null, null, 0);

    public static PatchValue FromBoolean(bool value) => new(value ? PatchValueKind.True : PatchValueKind.False, null, 0);

    public static PatchValue FromString(string value) => new(PatchValueKind.String, value, 0);

    public static PatchValue FromInteger(long value) => new(PatchValueKind.Integer, null, value);

    public static PatchValue FromContainer(PatchContainer value) => new(PatchValueKind.Container, value, 0);

    /// <summary>Holds an element; the caller guarantees its document is never changed or disposed.</summary>
    public static PatchValue FromElement(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Undefined => None,
        JsonValueKind.Null => Null,
        JsonValueKind.True => FromBoolean(true),
        JsonValueKind.False => FromBoolean(false),
        _ => new(PatchValueKind.Element, value, 0),
    };

    /// <summary>
    /// Reads a number token: an integer whose text is exactly what <see cref="long"/> formats back (so the value
    /// written later is byte-for-byte the one received) is kept in place; any other number keeps its text in an element.
    /// </summary>
    public static PatchValue FromNumberToken(ref Utf8JsonReader reader)
    {
        var text = reader.ValueSpan;
        if (reader.TryGetInt64(out var integer))
        {
            Span<byte> formatted = stackalloc byte[20];
            if (Utf8Formatter.TryFormat(integer, formatted, out var written) && formatted[..written].SequenceEqual(text))
            {
                return FromInteger(integer);
            }
        }

        return new(PatchValueKind.Element, JsonElement.ParseValue(ref reader), 0);
    }

    /// <summary>A new node for this value (<see langword="null"/> for JSON null), never shared with another apply.</summary>
    public JsonNode? CreateNode() => Kind switch
    {
        PatchValueKind.Null => null,
        PatchValueKind.True => JsonValue.Create(true),
        PatchValueKind.False => JsonValue.Create(false),
        PatchValueKind.Integer => JsonValue.Create(_integer),
        PatchValueKind.String => JsonValue.Create((string)_reference!),
        PatchValueKind.Element => CreateNode((JsonElement)_reference!),
        PatchValueKind.Container => ((PatchContainer)_reference!).CreateNode(),
        _ => throw new InvalidOperationException("The operation has no value."),
    };

    private static JsonNode? CreateNode(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => JsonObject.Create(element),
        JsonValueKind.Array => JsonArray.Create(element),
        _ => JsonValue.Create(element),
    };

    /// <summary>The value as an element; allocates for scalars held in place.</summary>
    public JsonElement ToElement()
    {
        switch (Kind)
        {
            case PatchValueKind.None:
                return default;
            case PatchValueKind.Null:
                return NullElement;
            case PatchValueKind.True:
                return TrueElement;
            case PatchValueKind.False:
                return FalseElement;
            case PatchValueKind.Element:
                return (JsonElement)_reference!;
            case PatchValueKind.Container:
                return ((PatchContainer)_reference!).ToElement();
            default:
                var buffer = new ArrayBufferWriter<byte>();
                using (var writer = new Utf8JsonWriter(buffer, JsonPatchWriter.WriterOptions))
                {
                    WriteTo(writer);
                }

                return JsonElement.Parse(buffer.WrittenSpan);
        }
    }

    public void WriteTo(Utf8JsonWriter writer)
    {
        switch (Kind)
        {
            case PatchValueKind.Null:
                writer.WriteNullValue();
                break;
            case PatchValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case PatchValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            case PatchValueKind.Integer:
                writer.WriteNumberValue(_integer);
                break;
            case PatchValueKind.String:
                writer.WriteStringValue((string)_reference!);
                break;
            case PatchValueKind.Element:
                ((JsonElement)_reference!).WriteTo(writer);
                break;
            case PatchValueKind.Container:
                ((PatchContainer)_reference!).WriteTo(writer);
                break;
            default:
                throw new InvalidOperationException("The operation has no value.");
        }
    }

    /// <summary>Whether <paramref name="node"/> equals this value as <c>test</c> defines it, allocating nothing for scalars.</summary>
    public bool EqualsNode(JsonNode? node)
    {
        switch (Kind)
        {
            case PatchValueKind.Null:
                return node is null || (node is JsonValue nullValue && nullValue.GetValueKind() == JsonValueKind.Null);
            case PatchValueKind.True:
            case PatchValueKind.False:
                return node is JsonValue boolean && boolean.GetValueKind() == (Kind == PatchValueKind.True ? JsonValueKind.True : JsonValueKind.False);
            case PatchValueKind.String:
                if (node is not JsonValue text)
                {
                    return false;
                }

                if (text.TryGetValue<JsonElement>(out var textElement))
                {
                    return textElement.ValueKind == JsonValueKind.String && textElement.ValueEquals((string)_reference!);
                }

                if (text.TryGetValue<string>(out var own))
                {
                    // A node made from a .NET string (an earlier add or replace): compared without a round trip.
                    return string.Equals(own, (string)_reference!, StringComparison.Ordinal);
                }

                return text.GetValueKind() == JsonValueKind.String && JsonValueEquality.Equals(node, ToElement());
            case PatchValueKind.Integer:
                if (node is not JsonValue number)
                {
                    return false;
                }

                if (number.TryGetValue<JsonElement>(out var numberElement))
                {
                    if (numberElement.ValueKind != JsonValueKind.Number)
                    {
                        return false;
                    }

                    if (numberElement.TryGetInt64(out var integer))
                    {
                        return integer == _integer;
                    }

                    // 1e2, 100.0, or a number no .NET type holds exactly: compared by value from the text.
                    Span<byte> formatted = stackalloc byte[20];
                    Utf8Formatter.TryFormat(_integer, formatted, out var written);
                    return JsonNumberText.ValueEquals(JsonMarshal.GetRawUtf8Value(numberElement), formatted[..written]);
                }

                if (number.TryGetValue<long>(out var own64))
                {
                    return own64 == _integer;
                }

                return number.GetValueKind() == JsonValueKind.Number && JsonValueEquality.Equals(node, ToElement());
            case PatchValueKind.Element:
                return JsonValueEquality.Equals(node, (JsonElement)_reference!);
            case PatchValueKind.Container:
                return ((PatchContainer)_reference!).EqualsNode(node);
            default:
                return false;
        }
    }
}

internal enum PatchValueKind : byte
{
    None,
    Null,
    True,
    False,
    Integer,
    String,
    Element,
    Container,
}
