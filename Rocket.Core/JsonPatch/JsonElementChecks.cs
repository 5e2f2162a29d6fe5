using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;

namespace Rocket.JsonPatch;

internal static class JsonElementChecks
{
    // Objects up to this size are checked pairwise, which allocates nothing; larger ones use a set.
    private const int PairwiseLimit = 8;

    /// <summary>
    /// Whether UTF-8 JSON text is Unicode text throughout: valid UTF-8 (RFC 8259 section 8.1), and no <c>\u</c> escape of
    /// an unpaired surrogate (section 8.2). System.Text.Json checks neither while it parses: bad bytes pass through
    /// to the output, and an unpaired escape throws <see cref="InvalidOperationException"/> later, when the string is
    /// read or written. Call it on text the reader has accepted, where a backslash only occurs inside a string.
    /// </summary>
    public static bool IsUnicodeText(ReadOnlySpan<byte> utf8Json)
    {
        if (!Utf8.IsValid(utf8Json))
        {
            return false;
        }

        var rest = utf8Json;
        int backslash;
        while ((backslash = rest.IndexOf((byte)'\\')) >= 0 && backslash + 1 < rest.Length)
        {
            rest = rest[(backslash + 1)..];
            if (rest[0] != (byte)'u' || !TryReadUtf16Escape(rest, out var unit))
            {
                // A one-character escape (\\ included, so the next backslash found is a new escape).
                rest = rest[1..];
                continue;
            }

            rest = rest[5..];
            if (char.IsLowSurrogate(unit))
            {
                return false;
            }

            if (char.IsHighSurrogate(unit))
            {
                if (rest.Length < 6 || rest[0] != (byte)'\\' || !TryReadUtf16Escape(rest[1..], out var low) || !char.IsLowSurrogate(low))
                {
                    return false;
                }

                rest = rest[6..];
            }
        }

        return true;
    }

    // Reads "uXXXX" (the backslash already consumed).
    private static bool TryReadUtf16Escape(ReadOnlySpan<byte> text, out char unit)
    {
        unit = default;
        if (text.Length < 5 || text[0] != (byte)'u'
            || !ushort.TryParse(text.Slice(1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        unit = (char)value;
        return true;
    }

    /// <summary>Finds a member name that occurs twice in one object anywhere inside <paramref name="element"/>.</summary>
    public static string? FindDuplicateProperty(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var count = element.GetPropertyCount();
                if (count > PairwiseLimit)
                {
                    var seen = new HashSet<string>(count, StringComparer.Ordinal);
                    foreach (var member in element.EnumerateObject())
                    {
                        if (!seen.Add(member.Name))
                        {
                            return member.Name;
                        }
                    }
                }
                else if (count > 1 && FindDuplicatePairwise(element) is { } pairwise)
                {
                    return pairwise;
                }

                foreach (var member in element.EnumerateObject())
                {
                    if (FindDuplicateProperty(member.Value) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (FindDuplicateProperty(item) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    private static string? FindDuplicatePairwise(JsonElement element)
    {
        var position = 0;
        foreach (var member in element.EnumerateObject())
        {
            var raw = JsonMarshal.GetRawUtf8PropertyName(member);
            var escaped = raw.IndexOf((byte)'\\') >= 0;
            var other = 0;
            foreach (var later in element.EnumerateObject())
            {
                if (other++ <= position)
                {
                    continue;
                }

                if (escaped ? later.NameEquals(member.Name) : later.NameEquals(raw))
                {
                    return member.Name;
                }
            }

            position++;
        }

        return null;
    }
}
