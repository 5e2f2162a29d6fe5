using System;

namespace Rocket.LoadTest;

/// <summary>
/// Finds <c>"seq":</c>, <c>"ts":</c> and <c>"due":</c> (in that order, as <see cref="Payload"/> writes them) in one
/// received frame by scanning, without parsing the JSON.
/// </summary>
internal static class FrameScanner
{
    private static ReadOnlySpan<byte> SeqToken => "\"seq\":"u8;
    private static ReadOnlySpan<byte> TsToken => "\"ts\":"u8;
    private static ReadOnlySpan<byte> DueToken => "\"due\":"u8;

    public static bool TryRead(ReadOnlySpan<byte> frame, out long seq, out long timestamp, out long due)
    {
        seq = 0;
        timestamp = 0;
        due = 0;
        var i = frame.IndexOf(SeqToken);
        if (i < 0)
        {
            return false;
        }

        var rest = frame[(i + SeqToken.Length)..];
        seq = ReadNumber(rest);
        var j = rest.IndexOf(TsToken);
        if (j < 0)
        {
            return false;
        }

        rest = rest[(j + TsToken.Length)..];
        timestamp = ReadNumber(rest);
        var k = rest.IndexOf(DueToken);
        if (k < 0)
        {
            return false;
        }

        due = ReadNumber(rest[(k + DueToken.Length)..]);
        return true;
    }

    public static bool TryRead(ReadOnlySpan<char> frame, out long seq, out long timestamp, out long due)
    {
        seq = 0;
        timestamp = 0;
        due = 0;
        var i = frame.IndexOf("\"seq\":", StringComparison.Ordinal);
        if (i < 0)
        {
            return false;
        }

        var rest = frame[(i + 6)..];
        seq = ReadNumber(rest);
        var j = rest.IndexOf("\"ts\":", StringComparison.Ordinal);
        if (j < 0)
        {
            return false;
        }

        rest = rest[(j + 5)..];
        timestamp = ReadNumber(rest);
        var k = rest.IndexOf("\"due\":", StringComparison.Ordinal);
        if (k < 0)
        {
            return false;
        }

        due = ReadNumber(rest[(k + 6)..]);
        return true;
    }

    private static long ReadNumber(ReadOnlySpan<byte> s)
    {
        long value = 0;
        foreach (var b in s)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                break;
            }

            value = (value * 10) + (b - '0');
        }

        return value;
    }

    private static long ReadNumber(ReadOnlySpan<char> s)
    {
        long value = 0;
        foreach (var c in s)
        {
            if (c is < '0' or > '9')
            {
                break;
            }

            value = (value * 10) + (c - '0');
        }

        return value;
    }
}
