using System;
using System.Text;
using Rocket.Live;

namespace Rocket.Core.Tests.Live;

public class CursorTests
{
    [Fact]
    public void ToString_IsEightHexDigitsDotSequence()
    {
        Assert.Equal("7f3a09c1.42", new Cursor(0x7f3a09c1, 42).ToString());
        Assert.Equal("00000000.0", default(Cursor).ToString());
        Assert.Equal("ffffffff.9223372036854775807", new Cursor(uint.MaxValue, long.MaxValue).ToString());
        Assert.Equal(Cursor.MaxLength, new Cursor(uint.MaxValue, long.MaxValue).ToString().Length);
    }

    [Fact]
    public void TryFormat_Utf8_MatchesText()
    {
        var cursor = new Cursor(0xabcdef01, 1234567);
        Span<byte> buffer = stackalloc byte[Cursor.MaxLength];
        Assert.True(cursor.TryFormat(buffer, out var written));
        Assert.Equal(cursor.ToString(), Encoding.ASCII.GetString(buffer[..written]));
        Assert.False(cursor.TryFormat(stackalloc byte[5], out _));
    }

    [Theory]
    [InlineData("7f3a09c1.42", 0x7f3a09c1u, 42L)]
    [InlineData("00000000.0", 0u, 0L)]
    [InlineData("ffffffff.9223372036854775807", uint.MaxValue, long.MaxValue)]
    public void TryParse_RoundTrips(string text, uint epoch, long sequence)
    {
        Assert.True(Cursor.TryParse(text, out var cursor));
        Assert.Equal(new Cursor(epoch, sequence), cursor);
        Assert.Equal(text, cursor.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("7f3a09c1")]
    [InlineData("7f3a09c1.")]
    [InlineData("7F3A09C1.1")]
    [InlineData("7f3a09c.1")]
    [InlineData("7f3a09c1x1")]
    [InlineData("7f3a09c1.-1")]
    [InlineData("7f3a09c1.+1")]
    [InlineData("7f3a09c1.1 ")]
    [InlineData("7f3a09c1.9223372036854775808")]
    [InlineData("7f3a09c1.99999999999999999999")]
    [InlineData("7f3a09g1.1")]
    [InlineData("\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000.1")]
    public void TryParse_Garbage_ReturnsFalse(string? text)
    {
        Assert.False(Cursor.TryParse(text, out var cursor));
        Assert.Equal(default, cursor);
    }

    [Fact]
    public void NewEpoch_IsNonZeroAndVaries()
    {
        var a = Cursor.NewEpoch();
        var b = Cursor.NewEpoch();
        var c = Cursor.NewEpoch();
        Assert.NotEqual(0u, a);
        Assert.False(a == b && b == c);
    }

    [Fact]
    public void Constructor_NegativeSequence_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Cursor(1, -1));
}
