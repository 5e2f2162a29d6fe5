using System;
using System.Globalization;
using System.Text;

namespace Rocket.LoadTest;

/// <summary>
/// The benchmark event. Every transport and baseline carries the same JSON Patch of about 200 bytes: one
/// <c>replace</c> of record <c>r1</c> whose value holds a sequence number and the server's send timestamp
/// (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>, the monotonic clock both processes share).
/// </summary>
internal static class Payload
{
    public const string Collection = "bench";
    public const string RecordId = "r1";

    // The record is padded so the whole patch is close to 200 bytes whatever the digits of seq and ts.
    private const int RecordBytes = 154;

    /// <summary>The record (the <c>value</c> of the patch), as Rocket's collection receives it.</summary>
    public static byte[] Record(long seq, long timestamp)
    {
        var head = string.Create(CultureInfo.InvariantCulture, $"{{\"seq\":{seq},\"ts\":{timestamp},\"text\":\"");
        var pad = Math.Max(0, RecordBytes - head.Length - 2);
        return Encoding.UTF8.GetBytes(head + new string('x', pad) + "\"}");
    }

    /// <summary>The JSON Patch Rocket publishes for <see cref="Record"/> (UpdateEncoding.Replace), for the baselines.</summary>
    public static byte[] Patch(long seq, long timestamp)
    {
        var record = Encoding.UTF8.GetString(Record(seq, timestamp));
        return Encoding.UTF8.GetBytes($"[{{\"op\":\"replace\",\"path\":\"/{Collection}/{RecordId}\",\"value\":{record}}}]");
    }

    /// <summary>A complete SSE frame of <see cref="Patch"/>, as the raw-socket floor writes it.</summary>
    public static byte[] SseFrame(long seq, long timestamp)
    {
        var patch = Encoding.UTF8.GetString(Patch(seq, timestamp));
        return Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"event: patch\nid: {seq}\ndata: {patch}\n\n"));
    }
}
