using System;
using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Rocket.Transports.Sse;

/// <summary>
/// Writes Server-Sent Events frames into any <see cref="IBufferWriter{T}"/> of bytes (a <c>PipeWriter</c>, a pooled
/// buffer), with no ASP.NET Core types, so a custom server can use it. Lines end with LF; every field is written as
/// <c>name: value</c> with the one space that parsers strip.
/// </summary>
/// <remarks>
/// A frame is <c>event: patch\nid: 7f3a.42\ndata: [...]\n\n</c>. Rocket's data is one JSON Patch array on one line:
/// JSON text from <c>JsonPatchWriter</c> never holds a raw line break. Other data with line breaks is written as one
/// <c>data:</c> line per line, which every parser joins back with LF (CR LF and CR become LF, as parsers do too).
/// </remarks>
public static class SseFrameWriter
{
    private static ReadOnlySpan<byte> EventPrefix => "event: "u8;
    private static ReadOnlySpan<byte> IdPrefix => "id: "u8;
    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;
    private static ReadOnlySpan<byte> RetryPrefix => "retry: "u8;
    private static ReadOnlySpan<byte> CommentPrefix => ": "u8;

    /// <summary>Writes one event: <c>event:</c> (when given), <c>id:</c> (when not empty), <c>data:</c>, and the blank line.</summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="eventType">The <c>event:</c> field, or <see langword="null"/> for the default <c>message</c>.</param>
    /// <param name="id">The <c>id:</c> field as UTF-8; empty writes none. CR, LF and NUL are refused.</param>
    /// <param name="data">The payload as UTF-8.</param>
    /// <exception cref="ArgumentException">The id holds CR, LF or NUL.</exception>
    public static void WriteEvent(IBufferWriter<byte> output, SseEventType? eventType, ReadOnlySpan<byte> id, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(output);
        ThrowIfInvalidId(id);

        var size = GetEventLength(eventType, id, data);
        var span = output.GetSpan(size);
        var written = 0;
        if (eventType is not null)
        {
            written += WriteLine(span, EventPrefix, eventType.Utf8Name.Span);
        }

        if (!id.IsEmpty)
        {
            written += WriteLine(span[written..], IdPrefix, id);
        }

        written += WriteData(span[written..], data);
        span[written++] = (byte)'\n';
        output.Advance(written);
    }

    /// <summary>The exact number of bytes <see cref="WriteEvent"/> writes for these fields.</summary>
    public static int GetEventLength(SseEventType? eventType, ReadOnlySpan<byte> id, ReadOnlySpan<byte> data)
    {
        var length = 1; // the blank line that ends the event
        if (eventType is not null)
        {
            length += EventPrefix.Length + eventType.Utf8Name.Length + 1;
        }

        if (!id.IsEmpty)
        {
            length += IdPrefix.Length + id.Length + 1;
        }

        var lines = 1;
        var rest = data;
        int at;
        while ((at = rest.IndexOfAny((byte)'\r', (byte)'\n')) >= 0)
        {
            lines++;
            var skip = rest[at] == '\r' && at + 1 < rest.Length && rest[at + 1] == '\n' ? 2 : 1;
            length -= skip; // line break bytes are replaced by the prefix and LF counted per line
            rest = rest[(at + skip)..];
        }

        return length + data.Length + (lines * (DataPrefix.Length + 1));
    }

    /// <summary>Writes <c>retry: N</c>, the reconnection time in milliseconds a client should wait after a drop.</summary>
    public static void WriteRetry(IBufferWriter<byte> output, TimeSpan reconnectionTime)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(reconnectionTime, TimeSpan.Zero);
        var span = output.GetSpan(RetryPrefix.Length + 20 + 1);
        RetryPrefix.CopyTo(span);
        Utf8Formatter.TryFormat((long)reconnectionTime.TotalMilliseconds, span[RetryPrefix.Length..], out var digits);
        var written = RetryPrefix.Length + digits;
        span[written++] = (byte)'\n';
        output.Advance(written);
    }

    /// <summary>
    /// Writes a comment line (<c>: text</c>), which clients ignore: Rocket sends one at the start of a stream and as the
    /// heartbeat. An empty text writes <c>:</c> alone. Line breaks in the text are refused.
    /// </summary>
    /// <exception cref="ArgumentException">The text holds CR or LF.</exception>
    public static void WriteComment(IBufferWriter<byte> output, ReadOnlySpan<char> text)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (text.IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException("An SSE comment cannot hold CR or LF.", nameof(text));
        }

        var span = output.GetSpan(CommentPrefix.Length + Encoding.UTF8.GetMaxByteCount(text.Length) + 1);
        int written;
        if (text.IsEmpty)
        {
            span[0] = (byte)':';
            written = 1;
        }
        else
        {
            CommentPrefix.CopyTo(span);
            written = CommentPrefix.Length + Encoding.UTF8.GetBytes(text, span[CommentPrefix.Length..]);
        }

        span[written++] = (byte)'\n';
        output.Advance(written);
    }

    /// <summary>Refuses an id that would break the frame (CR, LF) or that browsers ignore (NUL).</summary>
    /// <exception cref="ArgumentException">The id holds CR, LF or NUL.</exception>
    public static void ThrowIfInvalidId(ReadOnlySpan<byte> id)
    {
        if (id.IndexOfAny((byte)'\r', (byte)'\n', (byte)'\0') >= 0)
        {
            throw new ArgumentException("An SSE id cannot hold CR, LF or NUL.", nameof(id));
        }
    }

    private static int WriteLine(Span<byte> destination, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> value)
    {
        prefix.CopyTo(destination);
        value.CopyTo(destination[prefix.Length..]);
        destination[prefix.Length + value.Length] = (byte)'\n';
        return prefix.Length + value.Length + 1;
    }

    private static int WriteData(Span<byte> destination, ReadOnlySpan<byte> data)
    {
        var written = 0;
        var rest = data;
        while (true)
        {
            var at = rest.IndexOfAny((byte)'\r', (byte)'\n');
            if (at < 0)
            {
                return written + WriteLine(destination[written..], DataPrefix, rest);
            }

            written += WriteLine(destination[written..], DataPrefix, rest[..at]);
            var skip = rest[at] == '\r' && at + 1 < rest.Length && rest[at + 1] == '\n' ? 2 : 1;
            rest = rest[(at + skip)..];
        }
    }
}
