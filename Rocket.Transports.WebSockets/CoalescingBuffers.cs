using System;
using System.Threading;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// The buffers the WebSocket transports of a process copy a batch of small frames into, so that the batch is one write to
/// the upgraded connection: a fixed number, created on first use and kept.
/// </summary>
/// <remarks>
/// A write holds its buffer until the server has taken it, which is at once while the socket keeps up and later when it
/// is behind; in a flood, many connections are behind at the same time, each holding one. A shared
/// <see cref="System.Buffers.ArrayPool{T}"/> keeps a few dozen arrays of a size, so there most rents allocated (and most
/// returns were dropped). Here, when every buffer is in use, <see cref="TryRent"/> says so and the batch is written
/// frame by frame instead, which allocates nothing: the server copies each write into its own buffers.
/// </remarks>
internal static class CoalescingBuffers
{
    /// <summary>The size of each buffer: a batch of 64 small events (about 170 bytes each) fits in one.</summary>
    public const int BufferSize = 16 * 1024;

    // Enough for the writes of every core that complete at once and as many whose socket is behind; 512 KiB on two cores.
    private static readonly byte[]?[] Free = new byte[16 * Environment.ProcessorCount][];
    private static readonly Lock Gate = new();
    private static int s_free;
    private static int s_created;

    /// <summary>Takes a buffer, or returns <see langword="null"/> when all of them are in use.</summary>
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
