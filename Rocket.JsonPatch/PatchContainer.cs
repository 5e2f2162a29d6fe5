using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
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
        var builder = default(Builder);
        try
        {
            while (reader.Read() && reader.TokenType != end)
            {
                if (isObject)
                {
                    var name = reader.ValueIsEscaped ? reader.GetString()! : GetName(reader.ValueSpan);
                    if (!builder.AddName(name) && duplicate is null)
                    {
                        duplicate = name;
                    }

                    reader.Read();
                }

                builder.Add(reader.TokenType switch
                {
                    JsonTokenType.String => PatchValue.FromString(reader.GetString()!),
                    JsonTokenType.Number => PatchValue.FromNumberToken(ref reader),
                    JsonTokenType.True => PatchValue.FromBoolean(true),
                    JsonTokenType.False => PatchValue.FromBoolean(false),
                    JsonTokenType.Null => PatchValue.Null,
                    _ => PatchValue.FromContainer(Read(ref reader, ref duplicate)),
                });
            }

            return builder.Build(isObject);
        }
        finally
        {
            builder.Dispose();
        }
    }

    /// <summary>A member name from its unescaped UTF-8 bytes, through the bounded cache of names seen before.</summary>
    public static string GetName(ReadOnlySpan<byte> utf8)
    {
        if (MemberNames.TryGetValue(utf8, out var cached))
        {
            return cached;
        }

        // The patch was checked to be valid UTF-8 first, so this is the string the reader's GetString returns.
        var name = Encoding.UTF8.GetString(utf8);
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

    /// <summary>
    /// Collects the members of one object or array: the first eight on the stack, the rest in pooled arrays.
    /// </summary>
    public ref struct Builder
    {
        private InlineValues _inlineValues;
        private InlineNames _inlineNames;
        private PatchValue[]? _values;
        private string[]? _names;
        private HashSet<string>? _seen;
        private int _count;

        [UnscopedRef]
        private Span<PatchValue> Values => _values is null ? _inlineValues : _values;

        [UnscopedRef]
        private Span<string> Names => _names is null ? _inlineNames : _names;

        /// <summary>
        /// Starts an object member, whose value comes next; <see langword="false"/> when an earlier member has the same
        /// name (it is kept all the same). Checked before the value is read, so the first duplicate found is the first
        /// in document order.
        /// </summary>
        public bool AddName(string name)
        {
            EnsureRoom();
            var unique = !IsDuplicate(name, Names[.._count], ref _seen);
            Names[_count] = name;
            return unique;
        }

        /// <summary>Adds an array element, or the value of the member just started.</summary>
        public void Add(PatchValue value)
        {
            EnsureRoom();
            Values[_count++] = value;
        }

        public PatchContainer Build(bool isObject)
        {
            if (_count == 0)
            {
                return isObject ? EmptyObject : EmptyArray;
            }

            return new PatchContainer(isObject ? Names[.._count].ToArray() : null, Values[.._count].ToArray());
        }

        public void Dispose()
        {
            if (_values is not null)
            {
                ArrayPool<PatchValue>.Shared.Return(_values, clearArray: true);
                _values = null;
            }

            if (_names is not null)
            {
                ArrayPool<string>.Shared.Return(_names, clearArray: true);
                _names = null;
            }
        }

        private void EnsureRoom()
        {
            if (_count < Values.Length)
            {
                return;
            }

            var values = ArrayPool<PatchValue>.Shared.Rent(_count * 2);
            var names = ArrayPool<string>.Shared.Rent(_count * 2);
            Values[.._count].CopyTo(values);
            Names[.._count].CopyTo(names);
            Dispose();
            _values = values;
            _names = names;
        }
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
