using System;
using System.Linq;
using System.Text;
using CsCheck;
using Rocket.Live;
using Xunit.Abstractions;

namespace Rocket.Fuzz.Tests;

/// <summary>
/// <see cref="Cursor.TryParse(string?, out Cursor)"/> on any string: it never throws; what it parses has a text form
/// that parses back to the same cursor; and it parses only the documented form.
/// </summary>
public sealed class CursorFuzzTests(ITestOutputHelper output)
{
    // Near misses of "<8 lowercase hex>.<decimal>": wrong case, wrong length, non-ASCII digits, signs, overflow.
    private static readonly Gen<string> NearCursor = Gen.Select(
        Gen.Char["0123456789abcdefABCDEFg.-+ \u0660\uff10\u00e9"].Array[0, 10].Select(static c => new string(c)),
        Gen.Frequency(
            (4, Gen.Char["0123456789"].Array[0, 21].Select(static c => new string(c))),
            (1, Gen.OneOf("9223372036854775807", "9223372036854775808", "09223372036854775807", "18446744073709551616", "-1", "+1", "1e3", " 1", "")),
            (1, Gen.Long[0, long.MaxValue].Select(static n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)))),
        Gen.Frequency((6, Gen.Const(".")), (1, Gen.OneOf("", "..", ",", "\u2024"))),
        static (epoch, sequence, dot) => epoch + dot + sequence);

    private static readonly Gen<string?> Texts = Gen.Frequency(
        (1, Gen.Const((string?)null)),
        (3, Gen.String[0, 40].Select(static s => (string?)s)),
        (6, NearCursor.Select(static s => (string?)s)),
        (2, Gen.Select(Gen.UInt, Gen.Long[0, long.MaxValue], static (epoch, sequence) => (string?)new Cursor(epoch, sequence).ToString())));

    [Fact]
    public void TryParse_AnyString_NeverThrowsAndRoundTrips()
    {
        var parsed = 0;
        var cases = Fuzz.Run(
            Texts,
            text =>
            {
                if (!Cursor.TryParse(text, out var cursor))
                {
                    Assert.Equal(default, cursor);
                    return;
                }

                System.Threading.Interlocked.Increment(ref parsed);
                var written = cursor.ToString();
                Assert.True(Cursor.TryParse(written, out var again) && again == cursor, $"'{text}' parsed as {written}, which does not parse back");
                Assert.True(written.Length <= Cursor.MaxLength && written.All(static c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f' or '.'), written);

                // Only the documented form: 8 lowercase hex digits, a dot, ASCII decimal digits; the same number.
                Assert.NotNull(text);
                Assert.True(text.Length is > 9 and <= Cursor.MaxLength && text[8] == '.', text);
                Assert.Equal(written[..9], text[..9]);
                Assert.True(text[9..].All(char.IsAsciiDigit), text);
                Assert.Equal(cursor.Sequence, long.Parse(text[9..], System.Globalization.CultureInfo.InvariantCulture));

                // The span and UTF-8 forms agree with the string forms, into any buffer size.
                Assert.True(Cursor.TryParse(text.AsSpan(), out var fromSpan) && fromSpan == cursor);
                for (var size = 0; size <= Cursor.MaxLength; size++)
                {
                    var chars = new char[size];
                    var bytes = new byte[size];
                    var fitChars = cursor.TryFormat(chars, out var charCount);
                    var fitBytes = cursor.TryFormat(bytes, out var byteCount);
                    Assert.Equal(size >= written.Length, fitChars);
                    Assert.Equal(fitChars, fitBytes);
                    if (fitChars)
                    {
                        Assert.Equal(written, new string(chars, 0, charCount));
                        Assert.Equal(written, Encoding.ASCII.GetString(bytes, 0, byteCount));
                    }
                }
            },
            seed: 0x5EED_0201,
            ciCases: 5_000,
            output,
            print: static t => t is null ? "null" : $"\"{t}\" ({string.Join(' ', t.Select(static c => ((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)))})");
        output.WriteLine($"{parsed} parsed");
        Assert.InRange(parsed, cases / 10, cases);
    }
}
