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
/// to the next (docs/benchmarks.md, the 14:25 and 14:27 runs of 2026-11-26), while the raw floor's receivers, plain
/// sockets, stayed near 500 ns. So every HTTP stream is now read the way the floor's is, with the same socket calls for
/// every transport. The swing between runs did not go with it (the 14:32 run), so its cause lies elsewhere; see
/// docs/benchmarks.md.
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
/// The connection after the response headers: reads give the body (decoded when chunked; as much as is already here,
/// across chunks, before asking the socket for more), writes go to the socket as they are (an upgraded connection).
/// </summary>
internal sealed class HttpSocketStream : Stream
{
    private readonly Socket _socket;
    private readonly bool _chunked;
    private readonly byte[] _raw = new byte[16 * 1024];
    private int _start;
    private int _end;
    private long _chunkLeft;     // data bytes left in the current chunk
    private bool _afterChunk;    // the CRLF that ends a chunk's data is next
    private bool _ended;         // the last chunk has been read

    public HttpSocketStream(Socket socket, byte[] leftover, bool chunked)
    {
        _socket = socket;
        _chunked = chunked;
        leftover.CopyTo(_raw, 0);
        _end = leftover.Length;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var decoded = Decode(buffer.Span);
            if (decoded > 0 || _ended || buffer.IsEmpty)
            {
                return decoded;
            }

            // Nothing to hand over: keep the unread bytes (part of a chunk header at most) and read more.
            Array.Copy(_raw, _start, _raw, 0, _end - _start);
            _end -= _start;
            _start = 0;
            if (_end == _raw.Length)
            {
                throw new InvalidDataException("A chunk header is over 16 KiB.");
            }

            var read = await _socket.ReceiveAsync(_raw.AsMemory(_end), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                return 0;
            }

            _end += read;
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        SendAllAsync(buffer, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Asynchronous only.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Asynchronous only.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _socket.Dispose();
        }

        base.Dispose(disposing);
    }

    // Copies into `destination` as much of the body as the buffered bytes hold, chunk after chunk.
    private int Decode(Span<byte> destination)
    {
        var written = 0;
        while (written < destination.Length && _start < _end && !_ended)
        {
            if (!_chunked)
            {
                var n = Math.Min(destination.Length - written, _end - _start);
                _raw.AsSpan(_start, n).CopyTo(destination[written..]);
                _start += n;
                written += n;
                continue;
            }

            if (_chunkLeft > 0)
            {
                var n = (int)Math.Min(Math.Min(destination.Length - written, _end - _start), _chunkLeft);
                _raw.AsSpan(_start, n).CopyTo(destination[written..]);
                _start += n;
                written += n;
                _chunkLeft -= n;
                _afterChunk = _chunkLeft == 0;
                continue;
            }

            // A chunk header (RFC 9112 section 7.1): after the previous chunk's CRLF, hex digits, maybe extensions, CRLF.
            var pending = _raw.AsSpan(_start, _end - _start);
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

                _start += 2;
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

            _start += lineEnd + 2;
            _chunkLeft = length;
            _ended = length == 0; // The last chunk; trailers, if any, are not read.
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

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken);
            bytes = bytes[sent..];
        }
    }
}
