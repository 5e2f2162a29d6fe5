using System;
using System.Buffers;
using Rocket.Live;

namespace Rocket.Transports;

/// <summary>
/// The framing of <see cref="InMemoryTransport"/>: the cursor in ASCII, a line feed, then the JSON Patch array
/// (<c>7f3a09c1.42\n[{"op":"add",...}]</c>). Meant for tests and benchmarks; <see cref="TryDecode"/> reads it back.
/// </summary>
internal sealed class InMemoryEventFramer : IEventFramer
{
    private InMemoryEventFramer()
    {
    }

    /// <summary>The one instance.</summary>
    public static InMemoryEventFramer Instance { get; } = new();

    /// <summary>Always <c>in-memory</c>.</summary>
    public string Kind => "in-memory";

    /// <inheritdoc/>
    public void Frame(LiveEvent liveEvent, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(liveEvent);
        ArgumentNullException.ThrowIfNull(output);
        var patch = liveEvent.Patch.Span;
        var span = output.GetSpan(Cursor.MaxLength + 1 + patch.Length);
        liveEvent.Cursor.TryFormat(span, out var written);
        span[written++] = (byte)'\n';
        patch.CopyTo(span[written..]);
        output.Advance(written + patch.Length);
    }

    /// <summary>Splits a frame made by <see cref="Frame"/> into its cursor and its UTF-8 JSON Patch.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> frame, out Cursor cursor, out ReadOnlySpan<byte> utf8Patch)
    {
        var newline = frame.IndexOf((byte)'\n');
        utf8Patch = default;
        cursor = default;
        if (newline < 0 || newline > Cursor.MaxLength)
        {
            return false;
        }

        Span<char> text = stackalloc char[Cursor.MaxLength];
        for (var i = 0; i < newline; i++)
        {
            text[i] = (char)frame[i];
        }

        if (!Cursor.TryParse(text[..newline], out cursor))
        {
            return false;
        }

        utf8Patch = frame[(newline + 1)..];
        return true;
    }
}
