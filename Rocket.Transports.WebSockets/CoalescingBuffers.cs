using System;
using System.Threading;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// Buffers that WebSocket transports copy a batch of small frames into, so that the batch goes to the upgraded
/// connection in a few writes rather than one per frame: made when none is free, up to a bound, and kept. The transports
/// of a process share <see cref="Shared"/>.
/// </summary>
/// <remarks>
/// A write holds its buffer until the server has taken it, which is at once while the socket keeps up and later when it
/// is behind; in a flood, many connections are behind at the same time, each holding one. A shared
/// <see cref="System.Buffers.ArrayPool{T}"/> keeps a few dozen arrays of a size, so there rents kept allocating (and
/// returns were dropped), flood after flood. Here the buffers grow to the most writes that waited at once (the first
/// flood) and are reused after that, as Kestrel's own memory pool grows to the deepest buffering it has seen. Past the
/// bound, <see cref="TryRent"/> says so and the batch is written frame by frame, which allocates nothing but costs a
/// server write, and flush, per frame.
/// </remarks>
internal sealed class CoalescingBuffers
{
    /// <summary>
    /// The size of each buffer, 16 KiB: a batch of 64 events of about 250 bytes is one or two writes. Kestrel flushes each
    /// write of an upgraded stream, so the fewer writes a batch takes, the less each event costs: at 1,000 subscribers,
    /// 4 KiB buffers cost 544 ns of server CPU per delivery and 16 KiB ones 463 ns (benchmarks/Rocket.LoadTest/NOTES.md).
    /// </summary>
    public const int BufferSize = 16 * 1024;

    private readonly byte[]?[] _free;
    private readonly Lock _gate = new();
    private int _freeCount;
    private int _created;

    /// <summary>Creates a set of at most <paramref name="capacity"/> buffers, none made yet.</summary>
    public CoalescingBuffers(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _free = new byte[capacity][];
    }

    /// <summary>
    /// The process's buffers: at most 16 MiB, kept, for 1,024 writes waiting on slow sockets at once. Fewer would not do:
    /// with 256, a flood to 1,000 subscribers wrote many batches frame by frame and cost 608 ns per delivery.
    /// </summary>
    public static CoalescingBuffers Shared { get; } = new(1024);

    /// <summary>Takes a buffer, or returns <see langword="null"/> when all of them are in use and no more may be made.</summary>
    public byte[]? TryRent()
    {
        lock (_gate)
        {
            if (_freeCount > 0)
            {
                var buffer = _free[--_freeCount];
                _free[_freeCount] = null;
                return buffer;
            }

            if (_created == _free.Length)
            {
                return null;
            }

            _created++;
        }

        return GC.AllocateUninitializedArray<byte>(BufferSize);
    }

    /// <summary>Gives back a buffer from <see cref="TryRent"/>, once the write that used it is over.</summary>
    public void Return(byte[] buffer)
    {
        lock (_gate)
        {
            _free[_freeCount++] = buffer;
        }
    }
}
