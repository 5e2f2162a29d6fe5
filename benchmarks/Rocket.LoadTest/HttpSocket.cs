using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.LoadTest;

/// <summary>
/// A response to an HTTP/1.1 request made over a plain socket: the status, the headers, and the connection as a stream
/// that starts with what came after the headers and decodes a chunked body.
/// </summary>
/// <remarks>
/// The receivers of the HTTP transports read through this instead of <c>HttpClient</c>: with the same code and server,
/// <c>HttpClient</c>'s response stream cost the load process anywhere from about 450 ns to 2 µs per delivery from one run
/// to the next, while the raw floor's receivers, plain sockets, stayed near 500 ns. So every HTTP stream is read the way
/// the floor's is, with the same socket calls for every transport. That alone did not end the swing between runs;
/// reading into the thread's buffer (<see cref="HttpSocketStream"/>) did (benchmarks/Rocket.LoadTest/NOTES.md).
/// </remarks>
internal sealed record HttpSocketResponse(int Status, IReadOnlyDictionary<string, string> Headers, HttpSocketStream Body)
{
    /// <summary>Connects to <paramref name="url"/> (HTTP, loopback), sends a GET with <paramref name="headers"/> (each line ending in CRLF) and reads the response headers.</summary>
    public static async Task<HttpSocketResponse> GetAsync(Uri url, string headers, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(IPAddress.Parse(url.Host), url.Port, cancellationToken);
            var request = Encoding.ASCII.GetBytes($"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\n{headers}\r\n");
            await socket.SendAsync(request, SocketFlags.None, cancellationToken);

            var buffer = new byte[16 * 1024];
            var filled = 0;
            int end;
            while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (filled == buffer.Length)
                {
                    throw new InvalidDataException("The response headers are over 16 KiB.");
                }

                var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    throw new InvalidDataException("The server closed the connection before the response headers ended.");
                }

                filled += read;
            }

            var lines = Encoding.ASCII.GetString(buffer, 0, end).Split("\r\n");
            var status = lines[0].Split(' ');
            if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
                || !int.TryParse(status[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            {
                throw new InvalidDataException($"Not an HTTP/1.x status line: '{lines[0]}'.");
            }

            var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in lines.AsSpan(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    throw new InvalidDataException($"Not a header line: '{line}'.");
                }

                var name = line[..colon];
                var value = line[(colon + 1)..].Trim();
                fields[name] = fields.TryGetValue(name, out var earlier) ? earlier + ", " + value : value;
            }

            var chunked = code is >= 200 and not 204 and not 304
                && fields.TryGetValue("Transfer-Encoding", out var encoding)
                && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase);
            var leftover = buffer.AsSpan(end + 4, filled - end - 4).ToArray();
            return new HttpSocketResponse(code, fields, new HttpSocketStream(socket, leftover, chunked));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>
/// The connection after the response headers. A receiver waits with <see cref="WaitAsync"/>, which holds no buffer, then
/// takes what has arrived with <see cref="Read"/> into a buffer of its thread's choosing (decoded in place when the body
/// is chunked); writes go to the socket as they are (an upgraded connection).
/// </summary>
/// <remarks>
/// At 1,000 subscribers, a buffer of its own per connection (64 KiB) makes 64 MiB that every read touches cold: the
/// kernel's copy and the frame scan then ran from memory, not cache, and the load process spent more on that than on
/// anything else (by perf). Reading into the thread's buffer keeps the bytes in cache from the kernel's copy to the scan;
/// a receiver keeps only the start of a frame that a read cut.
/// </remarks>
internal sealed class HttpSocketStream : IDisposable
{
    private readonly Socket _socket;
    private readonly bool _chunked;
    private byte[] _held;        // bytes read but not yet handed over: what followed the headers, or a cut chunk header
    private int _heldLength;
    private bool _heldIsData;    // what followed the headers: hand it over without waiting for the socket
    private long _chunkLeft;     // data bytes left in the current chunk
    private bool _afterChunk;    // the CRLF that ends a chunk's data is next
    private bool _ended;         // the last chunk has been read, or the server closed the connection

    public HttpSocketStream(Socket socket, byte[] leftover, bool chunked)
    {
        _socket = socket;
        _socket.Blocking = false; // Read takes what is there and never waits; WaitAsync is the wait
        _chunked = chunked;
        _held = leftover.Length > 0 ? leftover : new byte[64];
        _heldLength = leftover.Length;
        _heldIsData = leftover.Length > 0;
    }

    /// <summary>The body has ended: the last chunk came, or the server closed the connection.</summary>
    public bool Ended => _ended;

    /// <summary>Waits until the connection has something to read (or has closed), without holding a buffer.</summary>
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (!_heldIsData && !_ended)
        {
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken);
        }
    }

    /// <summary>
    /// Reads what has arrived into <paramref name="destination"/>, without waiting, and returns how many bytes of the body
    /// it now starts with (0 when nothing complete came: call <see cref="WaitAsync"/> again, or stop if <see cref="Ended"/>).
    /// </summary>
    public int Read(Span<byte> destination)
    {
        if (_heldLength > destination.Length / 2)
        {
            throw new InvalidDataException("The destination is too small for what is already held.");
        }

        var length = _heldLength;
        _held.AsSpan(0, length).CopyTo(destination);
        _heldLength = 0;
        var wasData = _heldIsData;
        _heldIsData = false;
        if (!wasData && !_ended)
        {
            var read = _socket.Receive(destination[length..], SocketFlags.None, out var error);
            if (error == SocketError.Success)
            {
                _ended = read == 0;
                length += read;
            }
            else if (error != SocketError.WouldBlock)
            {
                throw new SocketException((int)error);
            }
        }

        return _chunked ? DecodeInPlace(destination[..length]) : length;
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken);
            bytes = bytes[sent..];
        }
    }

    public void Dispose() => _socket.Dispose();

    // Moves the chunks' data to the front of `bytes`, dropping the chunk framing; keeps a cut chunk header for the next read.
    private int DecodeInPlace(Span<byte> bytes)
    {
        var read = 0;
        var written = 0;
        while (read < bytes.Length && !_ended)
        {
            if (_chunkLeft > 0)
            {
                var n = (int)Math.Min(bytes.Length - read, _chunkLeft);
                bytes.Slice(read, n).CopyTo(bytes[written..]);
                read += n;
                written += n;
                _chunkLeft -= n;
                _afterChunk = _chunkLeft == 0;
                continue;
            }

            // A chunk header (RFC 9112 section 7.1): after the previous chunk's CRLF, hex digits, maybe extensions, CRLF.
            var pending = bytes[read..];
            if (_afterChunk)
            {
                if (pending.Length < 2)
                {
                    break;
                }

                if (pending[0] != '\r' || pending[1] != '\n')
                {
                    throw new InvalidDataException("A chunk's data did not end with CRLF.");
                }

                read += 2;
                _afterChunk = false;
                continue;
            }

            var lineEnd = pending.IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                break;
            }

            var size = pending[..lineEnd];
            var extension = size.IndexOf((byte)';');
            if (extension >= 0)
            {
                size = size[..extension];
            }

            if (!TryParseHex(size, out var length))
            {
                throw new InvalidDataException($"Not a chunk size: '{Encoding.ASCII.GetString(pending[..lineEnd])}'.");
            }

            read += lineEnd + 2;
            _chunkLeft = length;
            _ended = length == 0; // The last chunk; trailers, if any, are not read.
        }

        if (!_ended && read < bytes.Length)
        {
            var cut = bytes[read..];
            if (cut.Length > 1024)
            {
                throw new InvalidDataException("A chunk header is over 1 KiB.");
            }

            if (cut.Length > _held.Length)
            {
                _held = new byte[1024];
            }

            cut.CopyTo(_held);
            _heldLength = cut.Length;
        }

        return written;
    }

    private static bool TryParseHex(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > 15)
        {
            return false;
        }

        foreach (var c in digits)
        {
            var digit = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | (uint)digit;
        }

        return true;
    }
}
