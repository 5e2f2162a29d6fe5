using System;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>RFC 6901: parsing, formatting, escaping and the array index rule.</summary>
public sealed class JsonPointerTests
{
    [Theory]
    [InlineData("", new string[0])]
    [InlineData("/", new[] { "" })]
    [InlineData("//x", new[] { "", "x" })]
    [InlineData("/a//", new[] { "a", "", "" })]
    [InlineData("/foo/0", new[] { "foo", "0" })]
    [InlineData("/a~1b", new[] { "a/b" })]
    [InlineData("/m~0n", new[] { "m~n" })]
    [InlineData("/~01", new[] { "~1" })]
    [InlineData("/~10", new[] { "/0" })]
    [InlineData("/~0~1~1~0", new[] { "~//~" })]
    [InlineData("/ ", new[] { " " })]
    [InlineData("/é/\"/\\", new[] { "é", "\"", "\\" })]
    public void Parse_ValidPointer_YieldsUnescapedSegmentsAndRoundTrips(string text, string[] segments)
    {
        var pointer = JsonPointer.Parse(text);

        Assert.Equal(segments, pointer.Segments);
        Assert.Equal(segments.Length, pointer.Count);
        Assert.Equal(text, pointer.ToString());
        Assert.Equal(pointer, JsonPointer.Create(segments));
        Assert.Equal(text, JsonPointer.Create(segments).ToString());
    }

    [Theory]
    [InlineData("a")]
    [InlineData("a/b")]
    [InlineData(" /a")]
    [InlineData("#/a")]
    [InlineData("/~")]
    [InlineData("/a~")]
    [InlineData("/~2")]
    [InlineData("/a~b")]
    [InlineData("/~/")]
    [InlineData("/ok/~x/ok")]
    [InlineData("/~~01")]
    public void TryParse_InvalidPointer_IsRefused(string text)
    {
        Assert.False(JsonPointer.TryParse(text, out var result));
        Assert.True(result.IsRoot);
        Assert.Throws<FormatException>(() => JsonPointer.Parse(text));
    }

    [Fact]
    public void TryParse_Null_IsRefused()
    {
        Assert.False(JsonPointer.TryParse(null, out _));
        Assert.Throws<ArgumentNullException>(() => JsonPointer.Parse(null!));
    }

    [Fact]
    public void Root_EmptyString_IsWholeDocumentAndEqualsDefault()
    {
        var root = JsonPointer.Parse("");

        Assert.True(root.IsRoot);
        Assert.Equal(0, root.Count);
        Assert.Empty(root.Segments);
        Assert.Equal(JsonPointer.Root, root);
        Assert.Equal(default, root);
        Assert.Equal(string.Empty, default(JsonPointer).ToString());
        Assert.Throws<InvalidOperationException>(() => root.LastSegment);
        Assert.Throws<InvalidOperationException>(() => root.Parent);
    }

    [Fact]
    public void Slash_IsEmptyKeyNotRoot()
    {
        var pointer = JsonPointer.Parse("/");

        Assert.False(pointer.IsRoot);
        Assert.Equal(string.Empty, pointer.LastSegment);
        Assert.NotEqual(JsonPointer.Root, pointer);
        Assert.Equal(JsonPointer.Root, pointer.Parent);
    }

    [Theory]
    [InlineData("~", "~0")]
    [InlineData("/", "~1")]
    [InlineData("~1", "~01")]
    [InlineData("/0", "~10")]
    [InlineData("~/", "~0~1")]
    [InlineData("a/b~c", "a~1b~0c")]
    [InlineData("plain", "plain")]
    [InlineData("", "")]
    public void Escape_TildeBeforeSlash_RoundTripsThroughUnescape(string segment, string escaped)
    {
        Assert.Equal(escaped, JsonPointer.Escape(segment));
        Assert.Equal(escaped.Length, JsonPointer.GetEscapedLength(segment));
        var buffer = new char[escaped.Length];
        Assert.Equal(escaped.Length, JsonPointer.Escape(segment, buffer));
        Assert.Equal(escaped, new string(buffer));
        Assert.Equal(segment, JsonPointer.Unescape(escaped));
    }

    [Fact]
    public void EscapeToSpan_DestinationTooShort_Throws()
    {
        Assert.Throws<ArgumentException>(() => JsonPointer.Escape("a/b", new char[3]));
    }

    [Theory]
    [InlineData("~01", "~1")]
    [InlineData("~10", "/0")]
    [InlineData("~0~0", "~~")]
    public void Unescape_EachEscapeDecodedOnce_DoesNotDecodeTwice(string token, string expected)
    {
        Assert.Equal(expected, JsonPointer.Unescape(token));
    }

    [Theory]
    [InlineData("~")]
    [InlineData("a~")]
    [InlineData("~2")]
    [InlineData("~a")]
    public void Unescape_BadEscape_Throws(string token)
    {
        Assert.Throws<FormatException>(() => JsonPointer.Unescape(token));
    }

    [Fact]
    public void Append_EscapesSegment_AndParentUndoesIt()
    {
        var pointer = JsonPointer.Parse("/a").Append("b/c").Append("~");

        Assert.Equal("/a/b~1c/~0", pointer.ToString());
        Assert.Equal(new[] { "a", "b/c", "~" }, pointer.Segments);
        Assert.Equal("/a/b~1c", pointer.Parent.ToString());
        Assert.Equal(JsonPointer.Parse("/a/b~1c"), pointer.Parent);
        Assert.Equal("b/c", pointer.Parent.LastSegment);
        Assert.Equal("/", JsonPointer.Root.Append("").ToString());
    }

    [Theory]
    [InlineData("", "/a", true)]
    [InlineData("/a", "/a/b", true)]
    [InlineData("/a", "/a/b/c", true)]
    [InlineData("/a", "/ab", false)]
    [InlineData("/a", "/a", false)]
    [InlineData("", "", false)]
    [InlineData("/a/b", "/a", false)]
    [InlineData("/a~1b", "/a/b/c", false)]
    [InlineData("/", "//x", true)]
    public void IsProperPrefixOf_ComparesTokens(string prefix, string other, bool expected)
    {
        Assert.Equal(expected, JsonPointer.Parse(prefix).IsProperPrefixOf(JsonPointer.Parse(other)));
    }

    [Fact]
    public void Equality_ParsedAndCreated_AreEqualWithSameHash()
    {
        var parsed = JsonPointer.Parse("/a~1b/0");
        var created = JsonPointer.Create("a/b", "0");

        Assert.True(parsed == created);
        Assert.False(parsed != created);
        Assert.Equal(parsed.GetHashCode(), created.GetHashCode());
        Assert.True(parsed.Equals((object)created));
        Assert.NotEqual(JsonPointer.Parse("/a/b/0"), parsed);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("1", 1)]
    [InlineData("10", 10)]
    [InlineData("2147483647", int.MaxValue)]
    public void TryParseArrayIndex_CanonicalDigits_Accepted(string token, int expected)
    {
        Assert.True(JsonPointer.TryParseArrayIndex(token, out var index));
        Assert.Equal(expected, index);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("01")]
    [InlineData("00")]
    [InlineData("+1")]
    [InlineData("-1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1.0")]
    [InlineData("1e2")]
    [InlineData("0x1")]
    [InlineData("2147483648")]
    [InlineData("4294967296")]
    [InlineData("99999999999")]
    [InlineData("00000000001")]
    [InlineData("\u0661")] // ARABIC-INDIC DIGIT ONE: a digit to char.IsDigit, not to RFC 6901
    [InlineData("１")] // FULLWIDTH DIGIT ONE
    public void TryParseArrayIndex_NonCanonical_Refused(string token)
    {
        Assert.False(JsonPointer.TryParseArrayIndex(token, out _));
    }
}
