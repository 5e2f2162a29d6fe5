using System;
using System.Threading;

namespace Rocket.LoadTest;

/// <summary>Latencies at 1 µs resolution up to about 4 s (the last bucket holds everything above), thread-safe.</summary>
internal sealed class LatencyHistogram
{
    private const int Buckets = 1 << 22;
    private readonly int[] _counts = new int[Buckets];
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    public void Record(long microseconds)
    {
        var bucket = (int)Math.Clamp(microseconds, 0, Buckets - 1);
        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>The smallest latency (µs) at or below which <paramref name="fraction"/> of the samples lie; -1 when empty.</summary>
    public long Percentile(double fraction)
    {
        var total = Count;
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
