using System;
using System.Buffers;
using System.Text.Encodings.Web;

namespace Rocket.JsonPatch;

/// <summary>
/// The string escaping Rocket emits: only what RFC 8259 section 7 requires. <c>"</c> and <c>\</c> are escaped as
/// <c>\"</c> and <c>\\</c>; control characters U+0000 to U+001F as <c>\b \f \n \r \t</c> or <c>\u00XX</c>;
/// everything else, <c>+ &lt; &gt; &amp; '</c> and all non-ASCII text included, is written as plain UTF-8.
/// </summary>
/// <remarks>
/// <para>
/// Why not the default <see cref="JavaScriptEncoder"/>: it escapes HTML-sensitive and all non-ASCII characters
/// (<c>é</c> becomes <c>\u00E9</c>), which makes events up to six times larger for non-English text and differs from
/// what other servers send. Every JSON parser reads minimal escaping; Rocket never embeds JSON in HTML, so the HTML
/// guard buys nothing. U+2028 and U+2029 are left as they are: they are legal in JSON strings and, since ES2019, in
/// JavaScript string literals, and <c>JSON.parse</c> always accepted them.
/// </para>
/// <para>
/// Invalid UTF-16 (an unpaired surrogate) is not reliably refused by <see cref="System.Text.Json.Utf8JsonWriter"/>: it can
/// be dropped without an error (a path <c>"/a\uD800"</c> came out as <c>"/a"</c>). So <see cref="JsonPatchWriter"/> refuses
/// such paths itself, and <see cref="JsonPatchDocument"/> refuses such text when it parses.
/// </para>
/// </remarks>
public sealed class MinimalJsonEncoder : JavaScriptEncoder
{
    // Control characters, quote and backslash: the only bytes RFC 8259 requires to be escaped. Bytes of multi-byte
    // UTF-8 sequences are all >= 0x80, so a byte search cannot split a character.
    private static readonly SearchValues<byte> BytesToEscape = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\"\\"u8);

    private static readonly SearchValues<char> CharsToEscape = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\"\\");

    private MinimalJsonEncoder()
    {
    }

    /// <summary>The single instance.</summary>
    public static MinimalJsonEncoder Instance { get; } = new();

    /// <inheritdoc/>
    public override int MaxOutputCharactersPerInputCharacter => 6; // \u001F

    /// <inheritdoc/>
    public override bool WillEncode(int unicodeScalar) => unicodeScalar is < 0x20 or '"' or '\\';

    /// <inheritdoc/>
    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text) => utf8Text.IndexOfAny(BytesToEscape);

    /// <inheritdoc/>
    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength) =>
        new ReadOnlySpan<char>(text, textLength).IndexOfAny(CharsToEscape);

    /// <inheritdoc/>
    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var destination = new Span<char>(buffer, bufferLength);
        if (!WillEncode(unicodeScalar))
        {
            // Not ours to escape: write the scalar itself, as one or two UTF-16 code units.
            var ok = new System.Text.Rune(unicodeScalar).TryEncodeToUtf16(destination, out numberOfCharactersWritten);
            return ok;
        }

        ReadOnlySpan<char> shortForm = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\b' => "\\b",
            '\f' => "\\f",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            _ => default,
        };

        if (!shortForm.IsEmpty)
        {
            numberOfCharactersWritten = shortForm.Length;
            return shortForm.TryCopyTo(destination);
        }

        numberOfCharactersWritten = 6;
        if (destination.Length < 6)
        {
            numberOfCharactersWritten = 0;
            return false;
        }

        "\\u00".CopyTo(destination);
        destination[4] = HexDigit(unicodeScalar >> 4);
        destination[5] = HexDigit(unicodeScalar & 0xF);
        return true;
    }

    private static char HexDigit(int value) => (char)(value < 10 ? '0' + value : 'A' + value - 10);
}
