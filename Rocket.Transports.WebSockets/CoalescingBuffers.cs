using System;
using System.Threading;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// The buffers the WebSocket transports of a process copy a batch of small frames into, so that the batch goes to the
/// upgraded connection in a few writes rather than one per frame: created when none is free, up to a bound, and kept.
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
internal static class CoalescingBuffers
{
    /// <summary>The size of each buffer: Kestrel's memory block. A batch of 64 events of about 170 bytes is three writes.</summary>
    public const int BufferSize = 4 * 1024;

    // At most 4 MiB per process, kept: 1,024 writes waiting on slow sockets at once.
    private static readonly byte[]?[] Free = new byte[1024][];
    private static readonly Lock Gate = new();
    private static int s_free;
    private static int s_created;

    /// <summary>Takes a buffer, or returns <see langword="null"/> when all of them are in use and no more may be made.</summary>
    public static byte[]? TryRent()
    {
        lock (Gate)
        {
            if (s_free > 0)
            {
                var buffer = Free[--s_free];
                Free[s_free] = null;
                return buffer;
            }

            if (s_created == Free.Length)
            {
                return null;
            }

            s_created++;
        }

        return GC.AllocateUninitializedArray<byte>(BufferSize);
    }

    /// <summary>Gives back a buffer from <see cref="TryRent"/>, once the write that used it is over.</summary>
    public static void Return(byte[] buffer)
    {
        lock (Gate)
        {
            Free[s_free++] = buffer;
        }
    }
}
