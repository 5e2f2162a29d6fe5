using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;
using System.Linq;
using System.Threading;

namespace Rocket.LoadTest;

/// <summary>
/// What the server allocates, by type, over a window the load process opens and closes
/// (<c>GET /control/allocations?reset=1</c>): the runtime's <c>GCAllocationTick</c> events, read in-process, and
/// Kestrel's memory-pool counters.
/// </summary>
/// <remarks>
/// The runtime raises <c>GCAllocationTick</c> about every 100 KB allocated (per kind: small, large, pinned heap), naming the
/// type of the object that crossed the threshold and the bytes allocated since the previous tick; summed per type, that
/// is a sample proportional to each type's share of the bytes (a type that is 1% of a 40 MB flood gets ~4 ticks, so read
/// small shares as rough). There is no stack: an in-process listener receives the events later, on the runtime's
/// dispatch thread. The dispatch allocates on that thread (event arguments, boxed payload, the type name); those bytes
/// are counted apart (<see cref="Snapshot.ListenerBytes"/>) and are part of the server's total.
/// </remarks>
internal sealed class AllocationSampler : EventListener
{
    // The runtime provider, its GC keyword and the GCAllocationTick event (ids from ClrEtwAll.man).
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int GcAllocationTickId = 10;

    // Kestrel's pinned block pool (ASP.NET Core 10): bytes allocated when a rent finds the pool empty, bytes evicted when idle.
    private const string MemoryPoolMeter = "Microsoft.AspNetCore.MemoryPool";

    private readonly Lock _gate = new();
    private readonly MeterListener _meters = new();
    private Dictionary<(string Type, int Kind), (long Bytes, int Ticks)> _types = [];
    private long _windowStart = GC.GetTotalAllocatedBytes(precise: true);
    private long _listenerBytes;
    private long _poolAllocated;
    private long _poolEvicted;
    private long _poolRented;

    [ThreadStatic]
    private static long t_lastThreadBytes;

    public AllocationSampler()
    {
        _meters.InstrumentPublished = static (instrument, listener) =>
        {
            if (instrument.Meter.Name == MemoryPoolMeter)
            {
                listener.EnableMeasurementEvents(instrument, null);
            }
        };
        _meters.SetMeasurementEventCallback<long>(OnMeasurement);
        _meters.Start();
    }

    /// <summary>Returns what was allocated since the previous call with <paramref name="reset"/> (or the start), and optionally starts a new window.</summary>
    public Snapshot Read(bool reset, int top)
    {
        var total = GC.GetTotalAllocatedBytes(precise: true);
        lock (_gate)
        {
            var snapshot = new Snapshot(
                total - _windowStart,
                _types.Values.Sum(static v => v.Bytes),
                Interlocked.Read(ref _listenerBytes),
                Interlocked.Read(ref _poolAllocated),
                Interlocked.Read(ref _poolEvicted),
                Interlocked.Read(ref _poolRented),
                [.. _types
                    .OrderByDescending(static p => p.Value.Bytes)
                    .Take(top)
                    .Select(static p => new TypeSample(p.Key.Type, KindName(p.Key.Kind), p.Value.Bytes, p.Value.Ticks))]);
            if (reset)
            {
                _types = [];
                _windowStart = total;
                Interlocked.Exchange(ref _listenerBytes, 0);
                Interlocked.Exchange(ref _poolAllocated, 0);
                Interlocked.Exchange(ref _poolEvicted, 0);
                Interlocked.Exchange(ref _poolRented, 0);
            }

            return snapshot;
        }
    }

    public override void Dispose()
    {
        _meters.Dispose();
        base.Dispose();
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        // Called from the base constructor too, before this type's fields are set: touch none of them here.
        if (eventSource.Name == RuntimeProvider)
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventId == GcAllocationTickId && eventData.Payload is { } payload && eventData.PayloadNames is { } names)
        {
            var amount = Field(names, payload, "AllocationAmount64") is ulong a64 ? (long)a64 : Field(names, payload, "AllocationAmount") is uint a32 ? a32 : 0;
            var kind = Field(names, payload, "AllocationKind") is uint k ? (int)k : -1;
            var type = Field(names, payload, "TypeName") as string is { Length: > 0 } name ? name : "?";
            lock (_gate)
            {
                var key = (type, kind);
                _types.TryGetValue(key, out var sample);
                _types[key] = (sample.Bytes + amount, sample.Ticks + 1);
            }
        }

        // This thread is the listener's (the runtime's event dispatch): what it allocated since its previous event is ours.
        var now = GC.GetAllocatedBytesForCurrentThread();
        if (t_lastThreadBytes != 0)
        {
            Interlocked.Add(ref _listenerBytes, now - t_lastThreadBytes);
        }

        t_lastThreadBytes = now;
    }

    private static object? Field(ReadOnlyCollection<string> names, ReadOnlyCollection<object?> payload, string name)
    {
        for (var i = 0; i < names.Count && i < payload.Count; i++)
        {
            if (names[i] == name)
            {
                return payload[i];
            }
        }

        return null;
    }

    private static string KindName(int kind) => kind switch
    {
        0 => "small",
        1 => "large",
        2 => "pinned",
        _ => "?",
    };

    private void OnMeasurement(Instrument instrument, long measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        switch (instrument.Name)
        {
            case "aspnetcore.memory_pool.allocated":
                Interlocked.Add(ref _poolAllocated, measurement);
                break;
            case "aspnetcore.memory_pool.evicted":
                Interlocked.Add(ref _poolEvicted, measurement);
                break;
            case "aspnetcore.memory_pool.rented":
                Interlocked.Add(ref _poolRented, measurement);
                break;
        }
    }

    /// <summary>One window: the precise total, the sampled total and its top types, the listener's own share, Kestrel's pool.</summary>
    internal sealed record Snapshot(
        long AllocatedBytes,
        long SampledBytes,
        long ListenerBytes,
        long PoolAllocatedBytes,
        long PoolEvictedBytes,
        long PoolRentedBytes,
        TypeSample[] Top);

    /// <summary>A type's sampled bytes (the sum of the allocation amounts of the ticks that named it) and its tick count.</summary>
    internal sealed record TypeSample(string Type, string Kind, long Bytes, int Ticks);
}
