using System;
using System.Buffers.Text;
using System.Text;

namespace Rocket.LoadTest;

/// <summary>
/// The benchmark event. Every transport and baseline carries the same JSON Patch of about 200 bytes: one
/// <c>replace</c> of record <c>r1</c> whose value holds a sequence number, the server's send timestamp <c>ts</c> and the
/// time the event was due <c>due</c> (both <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>, the monotonic clock
/// both processes share). In the paced phase <c>due</c> is the event's slot in the schedule, so a late send shows in the
/// latency from <c>due</c> and not in the one from <c>ts</c>; a flood has no schedule and sends <c>due</c> = <c>ts</c>.
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

    // The record is padded to this size whatever the digits of seq, ts and due (even at 20 characters each, 63 bytes of
    // padding are left), so the patch is 200 bytes; adding due took padding, not size.
    private const int RecordBytes = 154;

    private static ReadOnlySpan<byte> PatchHead => "[{\"op\":\"replace\",\"path\":\"/bench/r1\",\"value\":"u8;
    private static ReadOnlySpan<byte> PatchTail => "}]"u8;

    /// <summary>The record (the <c>value</c> of the patch), as Rocket's collection receives it.</summary>
    public static byte[] Record(long seq, long timestamp, long due)
    {
        Span<byte> buffer = stackalloc byte[MaxFrameBytes];
        return buffer[..WriteRecord(buffer, seq, timestamp, due)].ToArray();
    }

    /// <summary>Writes the record into <paramref name="destination"/> and returns its length.</summary>
    public static int WriteRecord(Span<byte> destination, long seq, long timestamp, long due)
    {
        var at = Append(destination, 0, "{\"seq\":"u8);
        Utf8Formatter.TryFormat(seq, destination[at..], out var digits);
        at = Append(destination, at + digits, ",\"ts\":"u8);
        Utf8Formatter.TryFormat(timestamp, destination[at..], out digits);
        at = Append(destination, at + digits, ",\"due\":"u8);
        Utf8Formatter.TryFormat(due, destination[at..], out digits);
        at = Append(destination, at + digits, ",\"text\":\""u8);
        var pad = Math.Max(0, RecordBytes - at - 2);
        destination.Slice(at, pad).Fill((byte)'x');
        return Append(destination, at + pad, "\"}"u8);
    }

    /// <summary>Writes the JSON Patch Rocket publishes for the record (UpdateEncoding.Replace), for the baselines.</summary>
    public static int WritePatch(Span<byte> destination, long seq, long timestamp, long due)
    {
        var at = Append(destination, 0, PatchHead);
        at += WriteRecord(destination[at..], seq, timestamp, due);
        return Append(destination, at, PatchTail);
    }

    /// <summary>Writes a complete SSE frame of the patch, as the raw-socket floor sends it.</summary>
    public static int WriteSseFrame(Span<byte> destination, long seq, long timestamp, long due)
    {
        var at = Append(destination, 0, "event: patch\nid: "u8);
        Utf8Formatter.TryFormat(seq, destination[at..], out var digits);
        at = Append(destination, at + digits, "\ndata: "u8);
        at += WritePatch(destination[at..], seq, timestamp, due);
        return Append(destination, at, "\n\n"u8);
    }

    /// <summary>The patch as a string (for tests and the SignalR baseline's payload).</summary>
    public static string PatchText(long seq, long timestamp, long due)
    {
        Span<byte> buffer = stackalloc byte[MaxFrameBytes];
        return Encoding.UTF8.GetString(buffer[..WritePatch(buffer, seq, timestamp, due)]);
    }

    private static int Append(Span<byte> destination, int at, ReadOnlySpan<byte> text)
    {
        text.CopyTo(destination[at..]);
        return at + text.Length;
    }
}
