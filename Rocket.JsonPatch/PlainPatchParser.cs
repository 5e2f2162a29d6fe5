using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Rocket.JsonPatch;

/// <summary>
/// Parses the plain form of a JSON Patch, the one writers produce: members op, path, from and value each once, their
/// names and the op without escapes, and no value deeper than the limit allows. It walks the bytes itself (a plain scan of the
/// benchmark patch costs well under half of a <see cref="Utf8JsonReader"/> pass over it: about 0.23 against 0.61 µs),
/// and builds exactly what the general parser builds from the same text (the same pointers, names and values, through
/// the same caches and factories).
/// </summary>
/// <remarks>
/// Anything else (an escaped member name or op, a duplicate, a limit reached, and every error, invalid JSON included)
/// makes it give up, and the general parser reads the patch again from the start, so what is accepted, what is refused
/// and every error message stay the general parser's. It accepts only JSON (the grammar of RFC 8259 sections 2 to 7), and is
/// only called on text already checked to be valid UTF-8.
/// </remarks>
internal ref struct PlainPatchParser
{
    // This parser recurses once per level; deeper values, if the options allow them at all, go to the general parser.
    private const int RecursionLimit = 64;

    // Strings longer than this are searched with IndexOfAny, which only pays off past a few dozen bytes.
    private const int ShortString = 32;

    // Where a string ends or needs a closer look: its closing quote, an escape, or a control character (refused).
    private static readonly SearchValues<byte> StringStops = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F"u8);

    private readonly ReadOnlySpan<byte> _json;

    // The deepest container accepted, counting the patch array as 1 and operations as 2: one below the limit the reader
    // enforces, to stay clear of any doubt about how it counts.
    private readonly int _maxDepth;

    private int _position;

    // Whether the string last read has escapes.
    private bool _escaped;

    private PlainPatchParser(ReadOnlySpan<byte> json, int maxDepth)
    {
        _json = json;
        _maxDepth = maxDepth;
    }

    /// <summary>Parses the whole patch into <paramref name="operations"/>, or returns <see langword="false"/> (leaving some there).</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, JsonPatchParseOptions options, ref OperationBuffer operations)
    {
        var parser = new PlainPatchParser(utf8Json, Math.Min(options.MaxDepth - 1, RecursionLimit));
        return parser._maxDepth >= 2 && parser.TryParsePatch(options.MaxOperations, ref operations);
    }

    private bool TryParsePatch(int maxOperations, ref OperationBuffer operations)
    {
        if (!TryConsume((byte)'['))
        {
            return false;
        }

        if (!TryConsume((byte)']'))
        {
            do
            {
                if (operations.Count == maxOperations || !TryParseOperation(out var operation))
                {
                    return false;
                }

                operations.Add(operation);
            }
            while (TryConsume((byte)','));

            if (!TryConsume((byte)']'))
            {
                return false;
            }
        }

        SkipWhitespace();
        return _position == _json.Length;
    }

    private bool TryParseOperation(out OperationData operation)
    {
        operation = default;
        if (!TryConsume((byte)'{'))
        {
            return false;
        }

        bool hasOp = false, hasPath = false, hasFrom = false, hasValue = false;
        var type = default(JsonPatchOperationType);
        JsonPointer path = default, from = default;
        var value = PatchValue.None;
        do
        {
            if (!TryReadPlainString(out var name) || !TryConsume((byte)':'))
            {
                return false;
            }

            switch (name.Length)
            {
                case 2 when name.SequenceEqual("op"u8):
                    if (hasOp || !TryReadPlainString(out var op) || !JsonPatchDocument.TryParseOperationType(op, out type))
                    {
                        return false;
                    }

                    hasOp = true;
                    break;
                case 4 when name.SequenceEqual("path"u8):
                    if (hasPath || !TryReadPointer(out path))
                    {
                        return false;
                    }

                    hasPath = true;
                    break;
                case 4 when name.SequenceEqual("from"u8):
                    if (hasFrom || !TryReadPointer(out from))
                    {
                        return false;
                    }

                    hasFrom = true;
                    break;
                case 5 when name.SequenceEqual("value"u8):
                    if (hasValue || !TryParseValue(depth: 3, out value))
                    {
                        return false;
                    }

                    hasValue = true;
                    break;
                default:
                    // RFC 6902 section 4: other members are ignored (once read, to know the text is JSON).
                    if (!TryParseValue(depth: 3, out _))
                    {
                        return false;
                    }

                    break;
            }
        }
        while (TryConsume((byte)','));

        if (!TryConsume((byte)'}') || !hasOp || !hasPath)
        {
            return false;
        }

        // As the general parser does: a from only where it is used, a value only where it is used.
        if (type is JsonPatchOperationType.Move or JsonPatchOperationType.Copy)
        {
            if (!hasFrom)
            {
                return false;
            }
        }
        else
        {
            from = JsonPointer.Root;
        }

        if (type is JsonPatchOperationType.Add or JsonPatchOperationType.Replace or JsonPatchOperationType.Test)
        {
            if (!hasValue)
            {
                return false;
            }
        }
        else
        {
            value = PatchValue.None;
        }

        operation = new OperationData(type, path, from, value);
        return true;
    }

    private bool TryReadPointer(out JsonPointer pointer)
    {
        pointer = default;
        if (!TryReadString(out var raw))
        {
            return false;
        }

        return _escaped ? TryReadEscapedPointer(raw.Length, out pointer) : JsonPointer.TryParseCached(raw, out pointer, out _);
    }

    /// <summary>Reads any JSON value; a container at <paramref name="depth"/> (the patch array being 1).</summary>
    private bool TryParseValue(int depth, out PatchValue value)
    {
        value = PatchValue.None;
        SkipWhitespace();
        if (_position >= _json.Length)
        {
            return false;
        }

        switch (_json[_position])
        {
            case (byte)'"':
                if (!TryReadString(out var text))
                {
                    return false;
                }

                // Without escapes, valid UTF-8 is the string the reader's GetString returns; with them, the reader makes it.
                value = PatchValue.FromString(_escaped ? ReadEscaped(text.Length) : Encoding.UTF8.GetString(text));
                return true;
            case (byte)'{':
                return depth <= _maxDepth && TryParseContainer(isObject: true, depth, out value);
            case (byte)'[':
                return depth <= _maxDepth && TryParseContainer(isObject: false, depth, out value);
            case (byte)'t':
                return TryReadLiteral("true"u8, PatchValue.FromBoolean(true), out value);
            case (byte)'f':
                return TryReadLiteral("false"u8, PatchValue.FromBoolean(false), out value);
            case (byte)'n':
                return TryReadLiteral("null"u8, PatchValue.Null, out value);
            default:
                return TryReadNumber(out value);
        }
    }

    private bool TryParseContainer(bool isObject, int depth, out PatchValue value)
    {
        value = PatchValue.None;
        var end = isObject ? (byte)'}' : (byte)']';
        _position++;
        var builder = default(PatchContainer.Builder);
        try
        {
            if (!TryConsume(end))
            {
                do
                {
                    if (isObject)
                    {
                        // A duplicate name is refused by the general parser, with its message.
                        if (!TryReadString(out var raw))
                        {
                            return false;
                        }

                        // As in the general parser: escaped names are read by the reader and not cached.
                        var name = _escaped ? ReadEscaped(raw.Length) : PatchContainer.GetName(raw);
                        if (!TryConsume((byte)':') || !builder.AddName(name))
                        {
                            return false;
                        }
                    }

                    if (!TryParseValue(depth + 1, out var item))
                    {
                        return false;
                    }

                    builder.Add(item);
                }
                while (TryConsume((byte)','));

                if (!TryConsume(end))
                {
                    return false;
                }
            }

            value = PatchValue.FromContainer(builder.Build(isObject));
            return true;
        }
        finally
        {
            builder.Dispose();
        }
    }

    /// <summary>A string without escapes, as its raw UTF-8 bytes; one with escapes is refused.</summary>
    private bool TryReadPlainString(out ReadOnlySpan<byte> utf8) => TryReadString(out utf8) && !_escaped;

    /// <summary>
    /// Reads a string token, giving its raw contents (escapes left in: <see cref="_escaped"/> says whether there are any).
    /// Control characters and escapes other than those of RFC 8259 section 7 are refused, so the reader accepts the rest.
    /// </summary>
    private bool TryReadString(out ReadOnlySpan<byte> raw)
    {
        raw = default;
        SkipWhitespace();
        var json = _json;
        var position = _position;
        if (position >= json.Length || json[position] != (byte)'"')
        {
            return false;
        }

        // Most strings here are short (names, ops, paths): a byte at a time is quickest for them.
        var start = ++position;
        var shortEnd = Math.Min(json.Length, start + ShortString);
        while (position < shortEnd)
        {
            var b = json[position];
            if (b == (byte)'"')
            {
                raw = json[start..position];
                _position = position + 1;
                _escaped = false;
                return true;
            }

            if (b < 0x20 || b == (byte)'\\')
            {
                return b == (byte)'\\' && TryReadStringRest(start, position, out raw);
            }

            position++;
        }

        return TryReadStringRest(start, position, out raw);
    }

    /// <summary>
    /// The rest of a long or escaped string, from <paramref name="position"/>: a vectorized search for the next quote,
    /// backslash or control character, checking each escape.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryReadStringRest(int start, int position, out ReadOnlySpan<byte> raw)
    {
        raw = default;
        var json = _json;
        var escaped = false;
        while (true)
        {
            var next = json[position..].IndexOfAny(StringStops);
            if (next < 0)
            {
                return false;
            }

            position += next;
            var b = json[position];
            if (b == (byte)'"')
            {
                raw = json[start..position];
                _position = position + 1;
                _escaped = escaped;
                return true;
            }

            if (b < 0x20 || position + 1 >= json.Length)
            {
                return false;
            }

            escaped = true;
            switch (json[position + 1])
            {
                case (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t':
                    position += 2;
                    break;
                case (byte)'u' when position + 6 <= json.Length && IsHex(json[position + 2]) && IsHex(json[position + 3]) && IsHex(json[position + 4]) && IsHex(json[position + 5]):
                    position += 6;
                    break;
                default:
                    return false;
            }
        }
    }

    private static bool IsHex(byte b) => char.IsAsciiHexDigit((char)b);

    // Escaped strings are left to the reader, one token at a time, in methods of their own: a reader is a large struct,
    // which the hot methods would otherwise clear on every call.

    /// <summary>The string the reader makes of the escaped string token just read, whose raw contents are <paramref name="length"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly string ReadEscaped(int length)
    {
        var reader = new Utf8JsonReader(_json.Slice(_position - length - 2, length + 2));
        reader.Read();
        return reader.GetString()!;
    }

    /// <summary>The escaped pointer just read, unescaped and parsed exactly as the general parser does it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly bool TryReadEscapedPointer(int length, out JsonPointer pointer)
    {
        var reader = new Utf8JsonReader(_json.Slice(_position - length - 2, length + 2));
        reader.Read();
        return JsonPatchDocument.ReadPointer(ref reader, out pointer) is null;
    }

    private bool TryReadLiteral(ReadOnlySpan<byte> literal, PatchValue literalValue, out PatchValue value)
    {
        // What follows is checked by the caller, which expects a ',', '}' or ']' (so "truex" is refused).
        value = literalValue;
        if (!_json[_position..].StartsWith(literal))
        {
            return false;
        }

        _position += literal.Length;
        return true;
    }

    /// <summary>
    /// A number by RFC 8259 section 6: <c>-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?</c>. An integer of up to 18
    /// digits (always a <see cref="long"/>, written back the same) is kept in place as the general parser does; any
    /// other number goes through the same <see cref="PatchValue.FromNumberToken"/>.
    /// </summary>
    private bool TryReadNumber(out PatchValue value)
    {
        value = PatchValue.None;
        var json = _json;
        var start = _position;
        var position = start;
        var negative = position < json.Length && json[position] == (byte)'-';
        if (negative)
        {
            position++;
        }

        var digitsStart = position;
        if (position < json.Length && json[position] == (byte)'0')
        {
            position++;
        }
        else if (position < json.Length && json[position] is >= (byte)'1' and <= (byte)'9')
        {
            position = SkipDigits(json, position + 1);
        }
        else
        {
            return false;
        }

        var digits = position - digitsStart;
        var integer = true;
        if (position < json.Length && json[position] == (byte)'.')
        {
            var fractionStart = position + 1;
            position = SkipDigits(json, fractionStart);
            if (position == fractionStart)
            {
                return false;
            }

            integer = false;
        }

        if (position < json.Length && json[position] is (byte)'e' or (byte)'E')
        {
            position++;
            if (position < json.Length && json[position] is (byte)'+' or (byte)'-')
            {
                position++;
            }

            var exponentStart = position;
            position = SkipDigits(json, exponentStart);
            if (position == exponentStart)
            {
                return false;
            }

            integer = false;
        }

        _position = position;

        // "-0" is not what a long formats back, so the general parser keeps it as an element: so does this.
        if (integer && digits <= 18 && !(negative && json[digitsStart] == (byte)'0'))
        {
            long magnitude = 0;
            foreach (var digit in json[digitsStart..position])
            {
                magnitude = (magnitude * 10) + (digit - '0');
            }

            value = PatchValue.FromInteger(negative ? -magnitude : magnitude);
            return true;
        }

        var reader = new Utf8JsonReader(json[start..position]);
        reader.Read();
        value = PatchValue.FromNumberToken(ref reader);
        return true;
    }

    private static int SkipDigits(ReadOnlySpan<byte> json, int position)
    {
        while (position < json.Length && char.IsAsciiDigit((char)json[position]))
        {
            position++;
        }

        return position;
    }

    /// <summary>Skips whitespace, then takes <paramref name="token"/> if it is next.</summary>
    private bool TryConsume(byte token)
    {
        SkipWhitespace();
        if (_position < _json.Length && _json[_position] == token)
        {
            _position++;
            return true;
        }

        return false;
    }

    /// <summary>The four whitespace characters of RFC 8259 section 2, and no others.</summary>
    private void SkipWhitespace()
    {
        var json = _json;
        var position = _position;
        while (position < json.Length && json[position] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
        {
            position++;
        }

        _position = position;
    }
}
