using System;
using System.Buffers.Text;
using System.Text;

namespace Rocket.LoadTest;

/// <summary>
/// The benchmark event. Every transport and baseline carries the same JSON Patch of about 200 bytes: one
/// <c>replace</c> of record <c>r1</c> whose value holds a sequence number and the server's send timestamp
/// (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>, the monotonic clock both processes share).
/// </summary>
/// <remarks>
/// Everything is written into a caller's span, so the harness allocates nothing to build an event: the server's
/// allocated bytes per delivery are then the server's own (Rocket copies the record into its change, the baselines turn
/// the span into the array or string they queue).
/// </remarks>
internal static class Payload
{
    public const string Collection = "bench";
    public const string RecordId = "r1";

    /// <summary>Room enough for any frame (the record, the patch around it and the SSE fields).</summary>
    public const int MaxFrameBytes = 512;

    // The record is padded so the whole patch is close to 200 bytes whatever the digits of seq and ts.
    private const int RecordBytes = 154;

    private static ReadOnlySpan<byte> PatchHead => "[{\"op\":\"replace\",\"path\":\"/bench/r1\",\"value\":"u8;
    private static ReadOnlySpan<byte> PatchTail => "}]"u8;

    /// <summary>The record (the <c>value</c> of the patch), as Rocket's collection receives it.</summary>
    public static byte[] Record(long seq, long timestamp)
    {
        Span<byte> buffer = stackalloc byte[MaxFrameBytes];
        return buffer[..WriteRecord(buffer, seq, timestamp)].ToArray();
    }

    /// <summary>Writes the record into <paramref name="destination"/> and returns its length.</summary>
    public static int WriteRecord(Span<byte> destination, long seq, long timestamp)
    {
        var at = Append(destination, 0, "{\"seq\":"u8);
        Utf8Formatter.TryFormat(seq, destination[at..], out var digits);
        at = Append(destination, at + digits, ",\"ts\":"u8);
        Utf8Formatter.TryFormat(timestamp, destination[at..], out digits);
        at = Append(destination, at + digits, ",\"text\":\""u8);
        var pad = Math.Max(0, RecordBytes - at - 2);
        destination.Slice(at, pad).Fill((byte)'x');
        return Append(destination, at + pad, "\"}"u8);
    }

    /// <summary>Writes the JSON Patch Rocket publishes for the record (UpdateEncoding.Replace), for the baselines.</summary>
    public static int WritePatch(Span<byte> destination, long seq, long timestamp)
    {
        var at = Append(destination, 0, PatchHead);
        at += WriteRecord(destination[at..], seq, timestamp);
        return Append(destination, at, PatchTail);
    }

    /// <summary>Writes a complete SSE frame of the patch, as the raw-socket floor sends it.</summary>
    public static int WriteSseFrame(Span<byte> destination, long seq, long timestamp)
    {
        var at = Append(destination, 0, "event: patch\nid: "u8);
        Utf8Formatter.TryFormat(seq, destination[at..], out var digits);
        at = Append(destination, at + digits, "\ndata: "u8);
        at += WritePatch(destination[at..], seq, timestamp);
        return Append(destination, at, "\n\n"u8);
    }

    /// <summary>The patch as a string (for tests and the SignalR baseline's payload).</summary>
    public static string PatchText(long seq, long timestamp)
    {
        Span<byte> buffer = stackalloc byte[MaxFrameBytes];
        return Encoding.UTF8.GetString(buffer[..WritePatch(buffer, seq, timestamp)]);
    }

    private static int Append(Span<byte> destination, int at, ReadOnlySpan<byte> text)
    {
        text.CopyTo(destination[at..]);
        return at + text.Length;
    }
}
