using System;
using System.Buffers.Binary;
using System.Numerics;
using System.Threading;

namespace Rocket.JsonPatch;

/// <summary>
/// A bounded, thread-safe cache looked up by the UTF-8 bytes the reader holds, so a hit costs neither a transcoding
/// nor an allocation. The parser keeps pointers (<c>/messages/123/text</c>) and member names (<c>author</c>) in two of
/// them: patches against records repeat the same few, request after request.
/// </summary>
/// <remarks>
/// <para>
/// It holds at most <see cref="Capacity"/> entries of at most <see cref="MaxKeyLength"/> bytes and stops growing when
/// full, so hostile input can neither grow it without bound nor evict what is there; a miss after that is only slower.
/// </para>
/// <para>
/// A fixed open-addressed table of immutable entries, written once each with a compare-and-swap and never removed:
/// a lookup is a hash and a few reads, with no lock and no resizing (a <c>ConcurrentDictionary</c> cost about twice as
/// much per hit, most of it in <c>HashCode.AddBytes</c>). A key looks in at most <see cref="MaxProbes"/> slots, so keys
/// chosen to collide cost at most that many comparisons each, and one that finds no free slot is simply not kept.
/// </para>
/// </remarks>
internal sealed class Utf8KeyedCache<TValue>
{
    private const int MaxProbes = 8;

    private readonly Entry?[] _slots;
    private readonly int _mask;
    private int _count;

    public Utf8KeyedCache(int capacity, int maxKeyLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        MaxKeyLength = maxKeyLength;

        // Twice the capacity, so probe runs stay short even when full.
        _slots = new Entry?[BitOperations.RoundUpToPowerOf2((uint)capacity * 2)];
        _mask = _slots.Length - 1;
    }

    public int Capacity { get; }

    public int MaxKeyLength { get; }

    public int Count => Volatile.Read(ref _count);

    public bool TryGetValue(ReadOnlySpan<byte> utf8Key, out TValue value)
    {
        var hash = Utf8KeyHash.Hash(utf8Key);
        var slots = _slots;
        for (var probe = 0; probe < MaxProbes; probe++)
        {
            var entry = Volatile.Read(ref slots[(int)(hash + (uint)probe) & _mask]);
            if (entry is null)
            {
                // Entries are never removed, so the first empty slot ends the run.
                break;
            }

            if (entry.Hash == hash && utf8Key.SequenceEqual(entry.Key))
            {
                value = entry.Value;
                return true;
            }
        }

        value = default!;
        return false;
    }

    /// <summary>Adds an entry unless the key is too long or the cache is full; a key already there keeps its value.</summary>
    public void TryAdd(ReadOnlySpan<byte> utf8Key, TValue value)
    {
        if (utf8Key.Length > MaxKeyLength || Volatile.Read(ref _count) >= Capacity)
        {
            return;
        }

        var hash = Utf8KeyHash.Hash(utf8Key);
        var slots = _slots;
        Entry? created = null;
        for (var probe = 0; probe < MaxProbes; probe++)
        {
            ref var slot = ref slots[(int)(hash + (uint)probe) & _mask];
            var entry = Volatile.Read(ref slot);
            if (entry is null)
            {
                // A place is reserved first, so that racing writers never take the count past the capacity.
                if (Interlocked.Increment(ref _count) > Capacity)
                {
                    Interlocked.Decrement(ref _count);
                    return;
                }

                created ??= new Entry(hash, utf8Key.ToArray(), value);
                entry = Interlocked.CompareExchange(ref slot, created, null);
                if (entry is null)
                {
                    return;
                }

                Interlocked.Decrement(ref _count);
            }

            if (entry.Hash == hash && utf8Key.SequenceEqual(entry.Key))
            {
                return;
            }
        }
    }

    private sealed class Entry(uint hash, byte[] key, TValue value)
    {
        public uint Hash { get; } = hash;

        public byte[] Key { get; } = key;

        public TValue Value { get; } = value;
    }
}

/// <summary>The hash of <see cref="Utf8KeyedCache{TValue}"/>, outside the generic class so its seed is a plain static.</summary>
internal static class Utf8KeyHash
{
    // Seeded per process (HashCode's own random seed), so which keys collide differs from one process to the next.
    private static readonly ulong Seed = ((ulong)(uint)HashCode.Combine(0x5EED) << 32) | (uint)HashCode.Combine(0xC0DE);

    /// <summary>A seeded multiply-rotate hash over eight bytes at a time; keys here are short (paths, member names).</summary>
    public static uint Hash(ReadOnlySpan<byte> key)
    {
        const ulong Prime = 0x9E3779B97F4A7C15;
        var hash = Seed ^ ((ulong)key.Length * Prime);
        if (key.Length >= sizeof(ulong))
        {
            var rest = key;
            while (rest.Length >= sizeof(ulong))
            {
                hash = BitOperations.RotateLeft((hash ^ BinaryPrimitives.ReadUInt64LittleEndian(rest)) * Prime, 29);
                rest = rest[sizeof(ulong)..];
            }

            if (!rest.IsEmpty)
            {
                // The last eight bytes, overlapping what was read; the length is in the hash already.
                hash = BitOperations.RotateLeft((hash ^ BinaryPrimitives.ReadUInt64LittleEndian(key[^sizeof(ulong)..])) * Prime, 29);
            }
        }
        else if (key.Length >= sizeof(uint))
        {
            var first = BinaryPrimitives.ReadUInt32LittleEndian(key);
            var last = BinaryPrimitives.ReadUInt32LittleEndian(key[^sizeof(uint)..]);
            hash = BitOperations.RotateLeft((hash ^ (((ulong)first << 32) | last)) * Prime, 29);
        }
        else if (!key.IsEmpty)
        {
            var bytes = ((ulong)key[0] << 16) | ((ulong)key[key.Length / 2] << 8) | key[^1];
            hash = BitOperations.RotateLeft((hash ^ bytes) * Prime, 29);
        }

        // Spreads the high bits into the low ones, which pick the slot.
        hash ^= hash >> 32;
        hash *= Prime;
        return (uint)(hash >> 32);
    }
}
