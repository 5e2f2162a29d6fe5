using System;
using System.Diagnostics;
using System.Threading;

namespace Rocket.LoadTest;

/// <summary>
/// Latencies at 1 µs resolution up to about 4 s (the last bucket holds everything above), thread-safe without a lock:
/// a frame's latency is one atomic increment of its own bucket, and the total is summed only when a percentile is read
/// (after the phase), so receivers on both cores share no counter here.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int Buckets = 1 << 22;
    private readonly int[] _counts = new int[Buckets];

    /// <summary>Records the latency of each frame published at one of <paramref name="publishedAt"/> and received at <paramref name="now"/> (Stopwatch timestamps).</summary>
    public void Record(ReadOnlySpan<long> publishedAt, long now)
    {
        foreach (var timestamp in publishedAt)
        {
            var microseconds = (now - timestamp) * 1_000_000 / Stopwatch.Frequency;
            Interlocked.Increment(ref _counts[(int)Math.Clamp(microseconds, 0, Buckets - 1)]);
        }
    }

    /// <summary>The smallest latency (µs) at or below which <paramref name="fraction"/> of the samples lie; -1 when empty.</summary>
    public long Percentile(double fraction)
    {
        // Read after the phase: every receiver's increments happened before the delivery count that ended it.
        long total = 0;
        foreach (var count in _counts)
        {
            total += count;
        }

        if (total == 0)
        {
            return -1;
        }

        var rank = (long)Math.Ceiling(fraction * total);
        long seen = 0;
        for (var i = 0; i < Buckets; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return i;
            }
        }

        return Buckets - 1;
    }
}
