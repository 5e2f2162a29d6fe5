using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;

namespace Rocket.JsonPatch;

/// <summary>
/// A bounded, thread-safe cache looked up by the UTF-8 bytes the reader holds, so a hit costs neither a transcoding
/// nor an allocation. The parser keeps pointers (<c>/messages/123/text</c>) and member names (<c>author</c>) in two of
/// them: patches against records repeat the same few, request after request.
/// </summary>
/// <remarks>
/// It holds at most <see cref="Capacity"/> entries of at most <see cref="MaxKeyLength"/> bytes and stops growing when
/// full, so hostile input can neither grow it without bound nor evict what is there; a miss after that is only slower.
/// </remarks>
internal sealed class Utf8KeyedCache<TValue>
{
    private readonly ConcurrentDictionary<byte[], TValue> _entries = new(Utf8KeyComparer.Instance);
    private readonly ConcurrentDictionary<byte[], TValue>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private int _count;

    public Utf8KeyedCache(int capacity, int maxKeyLength)
    {
        Capacity = capacity;
        MaxKeyLength = maxKeyLength;
        _lookup = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int Capacity { get; }

    public int MaxKeyLength { get; }

    public int Count => Volatile.Read(ref _count);

    public bool TryGetValue(ReadOnlySpan<byte> utf8Key, out TValue value) => _lookup.TryGetValue(utf8Key, out value!);

    /// <summary>Adds an entry unless the key is too long or the cache is full; a key already there keeps its value.</summary>
    public void TryAdd(ReadOnlySpan<byte> utf8Key, TValue value)
    {
        if (utf8Key.Length <= MaxKeyLength && Volatile.Read(ref _count) < Capacity && _entries.TryAdd(utf8Key.ToArray(), value))
        {
            Interlocked.Increment(ref _count);
        }
    }

    /// <summary>Ordinal byte equality, with the alternate lookup by span that makes a hit allocation-free.</summary>
    private sealed class Utf8KeyComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly Utf8KeyComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        // HashCode is seeded per process, so keys chosen to collide in one process do not collide in another.
        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = default(HashCode);
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
