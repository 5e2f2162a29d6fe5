using System;
using System.Buffers;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Rocket.JsonPatch;

/// <summary>
/// An RFC 6901 JSON Pointer: an immutable, parsed list of reference tokens.
/// </summary>
/// <remarks>
/// <para>
/// <c>""</c> is the whole document, <c>"/"</c> is the member whose name is the empty string, and <c>"//x"</c> is two
/// levels deep. <c>~1</c> stands for <c>/</c> and <c>~0</c> for <c>~</c>; any other use of <c>~</c> is an error.
/// An invalid pointer is always refused, never repaired.
/// </para>
/// <para>
/// Whether a token is an array index depends on what it is applied to: on an object, <c>01</c> and <c>-</c> are
/// ordinary member names. <see cref="TryParseArrayIndex(ReadOnlySpan{char}, out int)"/> states the array rule.
/// </para>
/// <para><c>default(JsonPointer)</c> is the same as <see cref="Root"/>.</para>
/// </remarks>
public readonly struct JsonPointer : IEquatable<JsonPointer>
{
    private static readonly string[] NoSegments = [];
    private static readonly ReadOnlyCollection<string> NoSegmentsView = new(NoSegments);
    private static readonly Utf8KeyedCache<JsonPointer> Cache = new(CacheCapacity, CacheMaxLength);

    // One reference, so a pointer is as cheap to hold and copy as a string (operations hold two).
    private readonly Data? _data;

    private JsonPointer(string text, string[] segments) => _data = new Data(text, segments);

    private string[]? SegmentArray => _data?.Segments;

    /// <summary>The pointer <c>""</c>, which refers to the whole document.</summary>
    public static JsonPointer Root => default;

    /// <summary>The unescaped reference tokens, outermost first. Empty for <see cref="Root"/>.</summary>
    public IReadOnlyList<string> Segments => _data?.ReadOnlySegments ?? NoSegmentsView;

    /// <summary>The number of reference tokens.</summary>
    public int Count => SegmentArray?.Length ?? 0;

    /// <summary>Whether this is the pointer <c>""</c> to the whole document.</summary>
    public bool IsRoot => Count == 0;

    /// <summary>The last reference token. Throws for <see cref="Root"/>, which has none.</summary>
    public string LastSegment => Count > 0 ? SegmentArray![^1] : throw new InvalidOperationException("The root pointer has no segments.");

    /// <summary>The unescaped reference token at <paramref name="index"/>.</summary>
    public string this[int index] => (SegmentArray ?? NoSegments)[index];

    internal ReadOnlySpan<string> SegmentSpan => SegmentArray ?? NoSegments;

    /// <summary>Parses an RFC 6901 pointer.</summary>
    /// <exception cref="FormatException">The text is not a valid JSON Pointer; the message says why.</exception>
    public static JsonPointer Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryParse(text, out var pointer, out var error))
        {
            throw new FormatException(error);
        }

        return pointer;
    }

    /// <summary>Parses an RFC 6901 pointer, returning <see langword="false"/> when it is invalid.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out JsonPointer result) => TryParse(text, out result, out _);

    internal static bool TryParse([NotNullWhen(true)] string? text, out JsonPointer result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        if (text is null)
        {
            error = "A JSON Pointer cannot be null.";
            return false;
        }

        if (text.Length == 0)
        {
            error = null;
            return true;
        }

        if (text[0] != '/')
        {
            error = $"The JSON Pointer '{text}' must be empty or start with '/' (RFC 6901 section 3).";
            return false;
        }

        var count = 1;
        foreach (var c in text.AsSpan(1))
        {
            if (c == '/')
            {
                count++;
            }
        }

        var segments = new string[count];
        var rest = text.AsSpan(1);
        for (var i = 0; i < count; i++)
        {
            var end = rest.IndexOf('/');
            var token = end < 0 ? rest : rest[..end];
            if (!TryUnescape(token, out var segment))
            {
                error = $"The JSON Pointer '{text}' has a '~' not followed by '0' or '1' (RFC 6901 section 3).";
                return false;
            }

            segments[i] = segment;
            rest = end < 0 ? [] : rest[(end + 1)..];
        }

        result = new JsonPointer(text, segments);
        error = null;
        return true;
    }

    /// <summary>
    /// Parses a pointer, given as the UTF-8 bytes of its (unescaped) JSON string, through a bounded cache of recently
    /// parsed ones. Patches against records reuse the same few paths (<c>/text</c>, <c>/tags/0</c>) request after
    /// request; a hit is looked up by the bytes the reader holds and costs neither a transcoding nor an allocation.
    /// The cache holds at most <see cref="CacheCapacity"/> pointers of at most <see cref="CacheMaxLength"/> bytes and
    /// stops growing when full (see <see cref="Utf8KeyedCache{TValue}"/>). Invalid pointers are never cached.
    /// <paramref name="utf8"/> must be valid UTF-8 (the parser checks the whole patch first).
    /// </summary>
    internal static bool TryParseCached(ReadOnlySpan<byte> utf8, out JsonPointer result, [NotNullWhen(false)] out string? error)
    {
        if (Cache.TryGetValue(utf8, out result))
        {
            error = null;
            return true;
        }

        if (!TryParse(Encoding.UTF8.GetString(utf8), out result, out error))
        {
            return false;
        }

        Cache.TryAdd(utf8, result);
        return true;
    }

    internal const int CacheCapacity = 4096;

    internal const int CacheMaxLength = 256;

    /// <summary>Builds a pointer from unescaped reference tokens.</summary>
    public static JsonPointer Create(params ReadOnlySpan<string> segments)
    {
        if (segments.IsEmpty)
        {
            return Root;
        }

        var copy = segments.ToArray();
        var builder = new StringBuilder();
        foreach (var segment in copy)
        {
            ArgumentNullException.ThrowIfNull(segment, nameof(segments));
            builder.Append('/');
            AppendEscaped(builder, segment);
        }

        return new JsonPointer(builder.ToString(), copy);
    }

    /// <summary>A pointer one level deeper: this pointer followed by the unescaped token <paramref name="segment"/>.</summary>
    public JsonPointer Append(string segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var current = SegmentSpan;
        var segments = new string[current.Length + 1];
        current.CopyTo(segments);
        segments[^1] = segment;
        return new JsonPointer(ToString() + "/" + Escape(segment), segments);
    }

    /// <summary>The pointer to the parent of this location. Throws for <see cref="Root"/>.</summary>
    public JsonPointer Parent
    {
        get
        {
            if (IsRoot)
            {
                throw new InvalidOperationException("The root pointer has no parent.");
            }

            var text = ToString();
            return new JsonPointer(text[..text.LastIndexOf('/')], SegmentArray![..^1]);
        }
    }

    /// <summary>
    /// Whether this pointer is a proper prefix of <paramref name="other"/>, token by token: <c>/a</c> is a proper
    /// prefix of <c>/a/b</c> but not of <c>/ab</c> nor of <c>/a</c>. The root is a proper prefix of every other pointer.
    /// </summary>
    public bool IsProperPrefixOf(JsonPointer other)
    {
        var mine = SegmentSpan;
        var theirs = other.SegmentSpan;
        return mine.Length < theirs.Length && theirs[..mine.Length].SequenceEqual(mine);
    }

    /// <summary>
    /// Applies the RFC 6901 array index rule to a reference token: ASCII digits only, no leading zeros (but <c>0</c>),
    /// no sign, no spaces, and within <see cref="int.MaxValue"/>. The token <c>-</c> is not an index; it means
    /// "past the last element" and is only valid where an operation appends.
    /// </summary>
    public static bool TryParseArrayIndex(ReadOnlySpan<char> token, out int index)
    {
        index = 0;
        if (token.IsEmpty || token.Length > 10 || (token[0] == '0' && token.Length > 1))
        {
            return false;
        }

        long value = 0;
        foreach (var c in token)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        if (value > int.MaxValue)
        {
            return false;
        }

        index = (int)value;
        return true;
    }

    /// <summary>Escapes one reference token: <c>~</c> becomes <c>~0</c> first, then <c>/</c> becomes <c>~1</c>.</summary>
    public static string Escape(string segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        if (segment.AsSpan().IndexOfAny('~', '/') < 0)
        {
            return segment;
        }

        // Order matters (RFC 6901 section 4): escaping '~' after '/' would turn "~1" into "~01".
        return segment.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
    }

    /// <summary>The length of <paramref name="segment"/> once escaped.</summary>
    public static int GetEscapedLength(ReadOnlySpan<char> segment) => segment.Length + segment.Count('~') + segment.Count('/');

    /// <summary>Writes <paramref name="segment"/> escaped into <paramref name="destination"/>; returns the characters written.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="GetEscapedLength"/>.</exception>
    public static int Escape(ReadOnlySpan<char> segment, Span<char> destination)
    {
        if (destination.Length < GetEscapedLength(segment))
        {
            throw new ArgumentException("The destination is too short for the escaped token.", nameof(destination));
        }

        var written = 0;
        foreach (var c in segment)
        {
            switch (c)
            {
                case '~':
                    destination[written++] = '~';
                    destination[written++] = '0';
                    break;
                case '/':
                    destination[written++] = '~';
                    destination[written++] = '1';
                    break;
                default:
                    destination[written++] = c;
                    break;
            }
        }

        return written;
    }

    /// <summary>Unescapes one reference token: <c>~1</c> becomes <c>/</c>, then <c>~0</c> becomes <c>~</c>.</summary>
    /// <exception cref="FormatException">A <c>~</c> is not followed by <c>0</c> or <c>1</c>.</exception>
    public static string Unescape(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return TryUnescape(token, out var segment)
            ? segment
            : throw new FormatException($"The reference token '{token}' has a '~' not followed by '0' or '1' (RFC 6901 section 3).");
    }

    private static bool TryUnescape(ReadOnlySpan<char> token, out string segment)
    {
        var tilde = token.IndexOf('~');
        if (tilde < 0)
        {
            segment = token.ToString();
            return true;
        }

        var buffer = token.Length <= 256 ? stackalloc char[token.Length] : new char[token.Length];
        var written = 0;
        for (var i = 0; i < token.Length; i++)
        {
            var c = token[i];
            if (c == '~')
            {
                if (i + 1 >= token.Length || token[i + 1] is not ('0' or '1'))
                {
                    segment = string.Empty;
                    return false;
                }

                // Decoding each escape once, left to right, is RFC 6901's "~1 first, then ~0": "~01" is "~1".
                c = token[++i] == '0' ? '~' : '/';
            }

            buffer[written++] = c;
        }

        segment = new string(buffer[..written]);
        return true;
    }

    private static void AppendEscaped(StringBuilder builder, string segment)
    {
        foreach (var c in segment)
        {
            _ = c switch
            {
                '~' => builder.Append("~0"),
                '/' => builder.Append("~1"),
                _ => builder.Append(c),
            };
        }
    }

    /// <summary>The pointer in its RFC 6901 string form.</summary>
    public override string ToString() => _data?.Text ?? string.Empty;

    /// <inheritdoc/>
    public bool Equals(JsonPointer other) => string.Equals(ToString(), other.ToString(), StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is JsonPointer other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());

    /// <summary>Ordinal equality of the string forms.</summary>
    public static bool operator ==(JsonPointer left, JsonPointer right) => left.Equals(right);

    /// <summary>Ordinal inequality of the string forms.</summary>
    public static bool operator !=(JsonPointer left, JsonPointer right) => !left.Equals(right);

    private sealed class Data(string text, string[] segments)
    {
        private ReadOnlyCollection<string>? _readOnlySegments;

        public string Text { get; } = text;

        public string[] Segments { get; } = segments;

        // Pointers are shared (the parser caches them), so callers get a view they cannot cast back and change.
        public ReadOnlyCollection<string> ReadOnlySegments => _readOnlySegments ??= new ReadOnlyCollection<string>(Segments);
    }
}
