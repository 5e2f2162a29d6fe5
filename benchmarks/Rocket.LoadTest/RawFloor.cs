using System;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.LoadTest;

/// <summary>
/// The raw-socket floor: what delivering the same pre-framed bytes to N sockets costs with nothing else in the way. Each
/// frame is copied once, into one log shared by every socket; each socket's writer sends straight from the log whatever
/// it has not sent yet, up to 64 KiB per system call. No HTTP, no formatting, no copy per subscriber, no queue per
/// subscriber: publishing is an append and a wake-up of the writers that have caught up.
/// </summary>
/// <remarks>
/// Not a channel per socket with each batch copied into a rented 64 KiB array: once the receivers' cost was cut, that
/// design measured below Rocket's own transports in some runs, so it was no floor.
/// </remarks>
internal sealed class RawFloor
{
    private const int MaxSend = 64 * 1024;

    private readonly Lock _clientsLock = new();
    private readonly ByteLog _log = new();
    private Client[] _clients = [];

    public int Count => Volatile.Read(ref _clients).Length;

    public async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            socket.NoDelay = true;
            var client = new Client(socket, _log.Head);
            lock (_clientsLock)
            {
                _clients = [.. _clients, client];
            }

            _ = Task.Run(() => WatchAsync(client, cancellationToken), cancellationToken);
            _ = Task.Run(() => WriteAsync(client, cancellationToken), cancellationToken);
        }
    }

    /// <summary>Appends the frame to the log (from one publisher at a time) and wakes the writers waiting for it.</summary>
    public void Publish(ReadOnlySpan<byte> frame)
    {
        var clients = Volatile.Read(ref _clients);
        _log.Append(frame, clients);
        foreach (var client in clients)
        {
            client.Wake();
        }
    }

    private async Task WriteAsync(Client client, CancellationToken cancellationToken)
    {
        try
        {
            while (!client.Dropped)
            {
                var bytes = _log.Next(ref client.Position, MaxSend);
                if (bytes.IsEmpty)
                {
                    await client.WaitAsync(_log, cancellationToken);
                    continue;
                }

                client.Position += await client.Socket.SendAsync(bytes, SocketFlags.None, cancellationToken);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }

        Drop(client);
    }

    // The client never sends; a read returning 0 (or failing) means it closed.
    private async Task WatchAsync(Client client, CancellationToken cancellationToken)
    {
        var buffer = new byte[16];
        try
        {
            while (await client.Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }

        Drop(client);
    }

    private void Drop(Client client)
    {
        lock (_clientsLock)
        {
            var at = Array.IndexOf(_clients, client);
            if (at < 0)
            {
                return;
            }

            _clients = [.. _clients.AsSpan(0, at), .. _clients.AsSpan(at + 1)];
        }

        client.Drop();
    }

    /// <summary>
    /// Frames back to back in chunks of 1 MiB (a frame never straddles two); a position is a byte offset across all
    /// chunks. Chunks every writer has passed are dropped when a new one starts.
    /// </summary>
    private sealed class ByteLog
    {
        private const int ChunkSize = 1 << 20;
        private const int MaxChunks = 1 << 14; // 16 GiB of positions; a run publishes a few MiB

        private readonly byte[]?[] _chunks = new byte[MaxChunks][];
        private readonly int[] _chunkEnds = new int[MaxChunks]; // bytes used in each chunk, final once the next one starts
        private long _head;

        public long Head => Volatile.Read(ref _head);

        public void Append(ReadOnlySpan<byte> frame, Client[] clients)
        {
            var head = _head;
            var chunk = (int)(head / ChunkSize);
            var used = (int)(head % ChunkSize);
            if (_chunks[chunk] is null || used + frame.Length > ChunkSize)
            {
                if (_chunks[chunk] is not null)
                {
                    _chunkEnds[chunk] = used;
                    chunk++;
                    used = 0;
                    Release(chunk, clients);
                }

                if (chunk >= MaxChunks || frame.Length > ChunkSize)
                {
                    throw new InvalidOperationException("The raw floor's log is full.");
                }

                _chunks[chunk] = new byte[ChunkSize];
            }

            frame.CopyTo(_chunks[chunk]!.AsSpan(used));
            Volatile.Write(ref _head, ((long)chunk * ChunkSize) + used + frame.Length);
        }

        /// <summary>The bytes from <paramref name="position"/> on (at most <paramref name="max"/>, within one chunk); empty when there are none yet.</summary>
        public ReadOnlyMemory<byte> Next(ref long position, int max)
        {
            var head = Head;
            while (position < head)
            {
                var chunk = (int)(position / ChunkSize);
                var offset = (int)(position % ChunkSize);
                var end = chunk == (int)(head / ChunkSize) ? (int)(head % ChunkSize) : Volatile.Read(ref _chunkEnds[chunk]);
                if (offset < end && Volatile.Read(ref _chunks[chunk]) is { } bytes)
                {
                    return bytes.AsMemory(offset, Math.Min(end - offset, max));
                }

                position = (long)(chunk + 1) * ChunkSize; // the rest of this chunk is unused: on to the next
            }

            return default;
        }

        // Drops the chunks before the one every connected writer has reached (they never go back).
        private void Release(int current, Client[] clients)
        {
            var lowest = (long)current * ChunkSize;
            foreach (var client in clients)
            {
                lowest = Math.Min(lowest, Volatile.Read(ref client.Position));
            }

            for (var chunk = (int)(lowest / ChunkSize) - 1; chunk >= 0 && _chunks[chunk] is not null; chunk--)
            {
                _chunks[chunk] = null;
            }
        }
    }

    private sealed class Client(Socket socket, long position)
    {
        private readonly SemaphoreSlim _signal = new(0);
        private int _parked;
        private volatile bool _dropped;

        public Socket Socket { get; } = socket;

        public bool Dropped => _dropped;

        /// <summary>The next byte of the log to send; only the writer moves it (a chunk it skips was dropped: the receiver sees a gap).</summary>
#pragma warning disable CA1051 // Passed by reference to the log, which moves it.
        public long Position = position;
#pragma warning restore CA1051

        /// <summary>Closes the socket and releases the writer for good.</summary>
        public void Drop()
        {
            _dropped = true;
            Socket.Dispose();
            _signal.Release();
        }

        /// <summary>Called after an append: releases the writer if it is parked (at most one release per park).</summary>
        public void Wake()
        {
            if (Volatile.Read(ref _parked) == 1 && Interlocked.Exchange(ref _parked, 0) == 1)
            {
                _signal.Release();
            }
        }

        /// <summary>Parks until the log has bytes past <see cref="Position"/> (or the client is dropped).</summary>
        public async Task WaitAsync(ByteLog log, CancellationToken cancellationToken)
        {
            Volatile.Write(ref _parked, 1);
            if (log.Head != Position && Interlocked.Exchange(ref _parked, 0) == 1)
            {
                return; // an append came in between: no release was made for this park
            }

            await _signal.WaitAsync(cancellationToken);
        }
    }
}
