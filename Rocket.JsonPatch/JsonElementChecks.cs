using System;
using System.Globalization;
using System.Text.Unicode;

namespace Rocket.JsonPatch;

internal static class JsonElementChecks
{
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
}
