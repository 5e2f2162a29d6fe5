using System;
using System.Buffers;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;

namespace Rocket.JsonPatch;

/// <summary>
/// An object or array value of a parsed operation, read once into an immutable tree of <see cref="PatchValue"/>s:
/// member names come from a bounded cache (records repeat the same few), strings are read once and shared by every
/// application, and no <see cref="JsonDocument"/> is built. Each application creates fresh nodes from it.
/// </summary>
internal sealed class PatchContainer
{
    // Objects up to this many members are checked for duplicate names pairwise, which allocates nothing.
    private const int PairwiseLimit = 16;

    // The parser's own limit applied when the value was read; the element repeats it, whatever its depth.
    private static readonly JsonDocumentOptions UnlimitedDepth = new() { MaxDepth = int.MaxValue };

    private static readonly Utf8KeyedCache<string> MemberNames = new(capacity: 4096, maxKeyLength: 64);

    // Null for an array.
    private readonly string[]? _names;
    private readonly PatchValue[] _values;

    // The value as a JsonElement, built on the first request (operations expose one); a boxed element, or null.
    private object? _element;

    // Empty containers hold nothing that could differ, so every parse shares these two.
    private static readonly PatchContainer EmptyObject = new([], []);
    private static readonly PatchContainer EmptyArray = new(null, []);

    private PatchContainer(string[]? names, PatchValue[] values)
    {
        _names = names;
        _values = values;
    }

    public bool IsObject => _names is not null;

    /// <summary>
    /// Reads the object or array the reader is on, leaving it on the closing token. The first member name found twice
    /// in one object, anywhere inside, is reported through <paramref name="duplicate"/> (left as it is when none).
    /// </summary>
    public static PatchContainer Read(ref Utf8JsonReader reader, ref string? duplicate)
    {
        var isObject = reader.TokenType == JsonTokenType.StartObject;
        var end = isObject ? JsonTokenType.EndObject : JsonTokenType.EndArray;

        // Members collect on the stack; only a container of more than eight spills into pooled arrays.
        var inlineValues = default(InlineValues);
        var inlineNames = default(InlineNames);
        Span<PatchValue> values = inlineValues;
        Span<string> names = inlineNames;
        PatchValue[]? rentedValues = null;
        string[]? rentedNames = null;
        HashSet<string>? seen = null;
        var count = 0;
        try
        {
            while (reader.Read() && reader.TokenType != end)
            {
                if (count == values.Length)
                {
                    values = Grow(values, ref rentedValues, count);
                    names = Grow(names, ref rentedNames, count);
                }

                if (isObject)
                {
                    var name = ReadName(ref reader);
                    if (duplicate is null && IsDuplicate(name, names[..count], ref seen))
                    {
                        duplicate = name;
                    }

                    names[count] = name;
                    reader.Read();
                }

                values[count++] = reader.TokenType switch
                {
                    JsonTokenType.String => PatchValue.FromString(reader.GetString()!),
                    JsonTokenType.Number => PatchValue.FromNumberToken(ref reader),
                    JsonTokenType.True => PatchValue.FromBoolean(true),
                    JsonTokenType.False => PatchValue.FromBoolean(false),
                    JsonTokenType.Null => PatchValue.Null,
                    _ => PatchValue.FromContainer(Read(ref reader, ref duplicate)),
                };
            }

            if (count == 0)
            {
                return isObject ? EmptyObject : EmptyArray;
            }

            return new PatchContainer(isObject ? names[..count].ToArray() : null, values[..count].ToArray());
        }
        finally
        {
            if (rentedValues is not null)
            {
                ArrayPool<PatchValue>.Shared.Return(rentedValues, clearArray: true);
            }

            if (rentedNames is not null)
            {
                ArrayPool<string>.Shared.Return(rentedNames, clearArray: true);
            }
        }
    }

    private static Span<T> Grow<T>(Span<T> current, ref T[]? rented, int count)
    {
        var larger = ArrayPool<T>.Shared.Rent(count * 2);
        current[..count].CopyTo(larger);
        if (rented is not null)
        {
            ArrayPool<T>.Shared.Return(rented, clearArray: true);
        }

        rented = larger;
        return larger;
    }

    private static string ReadName(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            return reader.GetString()!;
        }

        var utf8 = reader.ValueSpan;
        if (MemberNames.TryGetValue(utf8, out var cached))
        {
            return cached;
        }

        var name = reader.GetString()!;
        MemberNames.TryAdd(utf8, name);
        return name;
    }

    private static bool IsDuplicate(string name, ReadOnlySpan<string> earlier, ref HashSet<string>? seen)
    {
        if (earlier.Length < PairwiseLimit)
        {
            foreach (var other in earlier)
            {
                if (string.Equals(name, other, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }

        if (seen is null)
        {
            seen = new HashSet<string>(earlier.Length * 2, StringComparer.Ordinal);
            foreach (var other in earlier)
            {
                seen.Add(other);
            }
        }

        return !seen.Add(name);
    }

    /// <summary>A new node tree for this value, never shared with another application.</summary>
    public JsonNode CreateNode()
    {
        if (_names is null)
        {
            var array = new JsonArray();
            foreach (var item in _values)
            {
                array.Add(item.CreateNode());
            }

            return array;
        }

        var obj = new JsonObject();
        for (var i = 0; i < _values.Length; i++)
        {
            obj.Add(_names[i], _values[i].CreateNode());
        }

        return obj;
    }

    public void WriteTo(Utf8JsonWriter writer)
    {
        if (_names is null)
        {
            writer.WriteStartArray();
            foreach (var item in _values)
            {
                item.WriteTo(writer);
            }

            writer.WriteEndArray();
            return;
        }

        writer.WriteStartObject();
        for (var i = 0; i < _values.Length; i++)
        {
            writer.WritePropertyName(_names[i]);
            _values[i].WriteTo(writer);
        }

        writer.WriteEndObject();
    }

    /// <summary>Whether <paramref name="node"/> equals this value as <c>test</c> defines it (member order ignored).</summary>
    public bool EqualsNode(JsonNode? node)
    {
        if (_names is null)
        {
            if (node is not JsonArray array || array.Count != _values.Length)
            {
                return false;
            }

            for (var i = 0; i < _values.Length; i++)
            {
                if (!_values[i].EqualsNode(array[i]))
                {
                    return false;
                }
            }

            return true;
        }

        if (node is not JsonObject obj || obj.Count != _values.Length)
        {
            return false;
        }

        // Names are unique here (the parser refuses duplicates) and in the node, so equal counts and every name found
        // with an equal value means the same members.
        for (var i = 0; i < _values.Length; i++)
        {
            if (!obj.TryGetPropertyValue(_names[i], out var member) || !_values[i].EqualsNode(member))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The value as an element, built once and then shared (elements are read-only).</summary>
    public JsonElement ToElement()
    {
        if (Volatile.Read(ref _element) is JsonElement built)
        {
            return built;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, JsonPatchWriter.WriterOptions))
        {
            WriteTo(writer);
        }

        var element = JsonElement.Parse(buffer.WrittenSpan, UnlimitedDepth);
        return (JsonElement)(Interlocked.CompareExchange(ref _element, element, null) ?? element);
    }

    [InlineArray(8)]
    private struct InlineValues
    {
        private PatchValue _first;
    }

    [InlineArray(8)]
    private struct InlineNames
    {
        private string _first;
    }
}
