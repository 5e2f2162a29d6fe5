using System;
using System.Diagnostics;
using System.Threading;

namespace Rocket.LoadTest;

/// <summary>
/// Latencies at 1 µs resolution up to about 4 s (the last bucket holds everything above), thread-safe: recorded a read's
/// worth at a time under one lock, instead of two atomic increments per frame.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int Buckets = 1 << 22;
    private readonly int[] _counts = new int[Buckets];
    private readonly Lock _lock = new();
    private long _total;

    public long Count
    {
        get
        {
            lock (_lock)
            {
                return _total;
            }
        }
    }

    /// <summary>Records the latency of each frame published at one of <paramref name="publishedAt"/> and received at <paramref name="now"/> (Stopwatch timestamps).</summary>
    public void Record(ReadOnlySpan<long> publishedAt, long now)
    {
        lock (_lock)
        {
            foreach (var timestamp in publishedAt)
            {
                var microseconds = (now - timestamp) * 1_000_000 / Stopwatch.Frequency;
                _counts[(int)Math.Clamp(microseconds, 0, Buckets - 1)]++;
            }

            _total += publishedAt.Length;
        }
    }

    /// <summary>The smallest latency (µs) at or below which <paramref name="fraction"/> of the samples lie; -1 when empty.</summary>
    public long Percentile(double fraction)
    {
        lock (_lock)
        {
            return Percentile(fraction, _total);
        }
    }

    private long Percentile(double fraction, long total)
    {
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
