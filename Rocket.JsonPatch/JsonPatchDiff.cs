using System;
using System.Buffers;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rocket.JsonPatch;

/// <summary>
/// Computes the JSON Patch that turns one JSON value into another.
/// </summary>
/// <remarks>
/// <para>
/// Objects are compared member by member and recursively: a member only in the source is removed, one only in the
/// target is added, one in both is diffed. Arrays keep their common prefix and suffix; the differing middle is diffed
/// position by position where both have elements, then the surplus is removed or the rest added. Values of different
/// kinds, and scalars that differ, are replaced whole.
/// </para>
/// <para>
/// Numbers are compared by their exact text, not their value, so applying the diff reproduces the target to the
/// letter (<c>1</c> becomes <c>1.0</c> if that is what the target says). Applying <c>Create(a, b)</c> to <c>a</c>
/// always yields a document equal to <c>b</c>; the only thing it does not promise is the order of object members.
/// </para>
/// </remarks>
public static class JsonPatchDiff
{
    // Objects larger than this are indexed by name; smaller ones are searched linearly, which is faster and allocates nothing.
    private const int LinearLookupLimit = 8;

    /// <summary>The patch that turns <paramref name="source"/> into <paramref name="target"/> (<see langword="null"/> is JSON null).</summary>
    public static JsonPatchDocument Create(JsonNode? source, JsonNode? target)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new JsonPatchWriter(output, skipValueValidation: true))
        {
            writer.WriteStartPatch();
            Write(ToElement(source), ToElement(target), writer, default);
            writer.WriteEndPatch();
        }

        return JsonPatchDocument.Parse(output.WrittenSpan);
    }

    /// <summary>The patch that turns <paramref name="source"/> into <paramref name="target"/>.</summary>
    public static JsonPatchDocument Create(JsonElement source, JsonElement target)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new JsonPatchWriter(output, skipValueValidation: true))
        {
            writer.WriteStartPatch();
            Write(source, target, writer, default);
            writer.WriteEndPatch();
        }

        return JsonPatchDocument.Parse(output.WrittenSpan);
    }

    /// <summary>
    /// Writes the operations that turn <paramref name="source"/> into <paramref name="target"/>, without the enclosing
    /// brackets, so they can join other operations in one patch. Every path starts with <paramref name="basePath"/>,
    /// an RFC 6901 pointer to where the two values live in a larger document (<c>""</c> for the whole document).
    /// </summary>
    /// <returns>The number of operations written; 0 when the values are equal.</returns>
    public static int Write(JsonElement source, JsonElement target, JsonPatchWriter writer, ReadOnlySpan<char> basePath)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (!JsonPatchWriter.IsValidPointer(basePath))
        {
            ThrowHelper.ThrowInvalidPointerArgument(nameof(basePath));
        }

        var path = new PathBuilder(basePath);
        try
        {
            return Diff(source, target, writer, ref path);
        }
        finally
        {
            path.Dispose();
        }
    }

    private static int Diff(JsonElement source, JsonElement target, JsonPatchWriter writer, ref PathBuilder path)
    {
        if (source.ValueKind == JsonValueKind.Object && target.ValueKind == JsonValueKind.Object)
        {
            return DiffObjects(source, target, writer, ref path);
        }

        if (source.ValueKind == JsonValueKind.Array && target.ValueKind == JsonValueKind.Array)
        {
            return DiffArrays(source, target, writer, ref path);
        }

        if (ExactlyEqual(source, target))
        {
            return 0;
        }

        writer.WriteReplace(path.Current, target);
        return 1;
    }

    private static int DiffObjects(JsonElement source, JsonElement target, JsonPatchWriter writer, ref PathBuilder path)
    {
        var count = 0;
        var sourceIndex = Index(source);
        var targetIndex = Index(target);
        foreach (var member in source.EnumerateObject())
        {
            if (!TryGet(target, targetIndex, member, out _))
            {
                var mark = path.Push(member);
                writer.WriteRemove(path.Current);
                path.Pop(mark);
                count++;
            }
        }

        foreach (var member in target.EnumerateObject())
        {
            var mark = path.Push(member);
            if (TryGet(source, sourceIndex, member, out var before))
            {
                count += Diff(before, member.Value, writer, ref path);
            }
            else
            {
                writer.WriteAdd(path.Current, member.Value);
                count++;
            }

            path.Pop(mark);
        }

        return count;
    }

    private static int DiffArrays(JsonElement source, JsonElement target, JsonPatchWriter writer, ref PathBuilder path)
    {
        var sourceLength = source.GetArrayLength();
        var targetLength = target.GetArrayLength();
        var prefix = 0;
        while (prefix < sourceLength && prefix < targetLength && ExactlyEqual(source[prefix], target[prefix]))
        {
            prefix++;
        }

        var suffix = 0;
        while (suffix < sourceLength - prefix && suffix < targetLength - prefix
               && ExactlyEqual(source[sourceLength - 1 - suffix], target[targetLength - 1 - suffix]))
        {
            suffix++;
        }

        var sourceMiddle = sourceLength - prefix - suffix;
        var targetMiddle = targetLength - prefix - suffix;
        var common = Math.Min(sourceMiddle, targetMiddle);
        var count = 0;
        for (var i = 0; i < common; i++)
        {
            var mark = path.Push(prefix + i);
            count += Diff(source[prefix + i], target[prefix + i], writer, ref path);
            path.Pop(mark);
        }

        // Surplus source elements all sit at the same index once each one before them is gone.
        for (var i = common; i < sourceMiddle; i++)
        {
            var mark = path.Push(prefix + common);
            writer.WriteRemove(path.Current);
            path.Pop(mark);
            count++;
        }

        for (var i = common; i < targetMiddle; i++)
        {
            var mark = path.Push(prefix + i);
            writer.WriteAdd(path.Current, target[prefix + i]);
            path.Pop(mark);
            count++;
        }

        return count;
    }

    /// <summary>Same kind, same strings, same number text, same members (any order), same elements (in order).</summary>
    internal static bool ExactlyEqual(JsonElement left, JsonElement right)
    {
        if (left.ValueKind != right.ValueKind)
        {
            return false;
        }

        switch (left.ValueKind)
        {
            case JsonValueKind.Object:
                if (left.GetPropertyCount() != right.GetPropertyCount())
                {
                    return false;
                }

                var rightIndex = Index(right);
                foreach (var member in left.EnumerateObject())
                {
                    if (!TryGet(right, rightIndex, member, out var other) || !ExactlyEqual(member.Value, other))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Array:
                var length = left.GetArrayLength();
                if (length != right.GetArrayLength())
                {
                    return false;
                }

                for (var i = 0; i < length; i++)
                {
                    if (!ExactlyEqual(left[i], right[i]))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.String:
                // The same text as written is the same string; different text is only when an escape is involved.
                var leftText = JsonMarshal.GetRawUtf8Value(left);
                var rightText = JsonMarshal.GetRawUtf8Value(right);
                return leftText.SequenceEqual(rightText)
                    || ((leftText.Contains((byte)'\\') || rightText.Contains((byte)'\\')) && left.ValueEquals(right.GetString()));
            case JsonValueKind.Number:
                return JsonMarshal.GetRawUtf8Value(left).SequenceEqual(JsonMarshal.GetRawUtf8Value(right));
            default:
                return true; // true, false, null
        }
    }

    private static Dictionary<string, JsonElement>? Index(JsonElement obj)
    {
        if (obj.GetPropertyCount() <= LinearLookupLimit)
        {
            return null;
        }

        var index = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var member in obj.EnumerateObject())
        {
            index[member.Name] = member.Value; // the last duplicate wins, as in System.Text.Json.Nodes
        }

        return index;
    }

    // Looks up the member named as `member` is. A name written without escapes (nearly all) is looked up by its UTF-8
    // bytes as they stand in the document: no string per member.
    private static bool TryGet(JsonElement obj, Dictionary<string, JsonElement>? index, JsonProperty member, out JsonElement value)
    {
        if (index is not null)
        {
            return index.TryGetValue(member.Name, out value);
        }

        var name = JsonMarshal.GetRawUtf8PropertyName(member);
        return name.Contains((byte)'\\') ? obj.TryGetProperty(member.Name, out value) : obj.TryGetProperty(name, out value);
    }

    private static JsonElement ToElement(JsonNode? node)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, JsonPatchWriter.WriterOptions))
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

    /// <summary>A JSON Pointer under construction in a pooled buffer: push a token, write, pop back.</summary>
    private struct PathBuilder : IDisposable
    {
        private char[] _buffer;
        private int _length;

        public PathBuilder(ReadOnlySpan<char> basePath)
        {
            _buffer = ArrayPool<char>.Shared.Rent(Math.Max(64, basePath.Length * 2));
            basePath.CopyTo(_buffer);
            _length = basePath.Length;
        }

        public readonly ReadOnlySpan<char> Current => _buffer.AsSpan(0, _length);

        public int Push(JsonProperty member)
        {
            var name = JsonMarshal.GetRawUtf8PropertyName(member);
            if (name.IndexOfAny("\\~/"u8) >= 0)
            {
                // Written with escapes, or in need of the pointer's own: through the name as a string.
                return Push(member.Name);
            }

            // Decoded straight into the path (the UTF-8 is valid: the document was parsed).
            var mark = _length;
            Ensure(1 + Encoding.UTF8.GetCharCount(name));
            _buffer[_length++] = '/';
            _length += Encoding.UTF8.GetChars(name, _buffer.AsSpan(_length));
            return mark;
        }

        public int Push(string name)
        {
            var mark = _length;
            Ensure(1 + JsonPointer.GetEscapedLength(name));
            _buffer[_length++] = '/';
            _length += JsonPointer.Escape(name, _buffer.AsSpan(_length));
            return mark;
        }

        public int Push(int index)
        {
            var mark = _length;
            Ensure(11);
            _buffer[_length++] = '/';
            index.TryFormat(_buffer.AsSpan(_length), out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
            _length += written;
            return mark;
        }

        public void Pop(int mark) => _length = mark;

        public void Dispose()
        {
            ArrayPool<char>.Shared.Return(_buffer);
            _buffer = [];
        }

        private void Ensure(int extra)
        {
            if (_length + extra <= _buffer.Length)
            {
                return;
            }

            var larger = ArrayPool<char>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + extra));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<char>.Shared.Return(_buffer);
            _buffer = larger;
        }
    }
}
