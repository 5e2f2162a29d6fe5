using System;
using System.Text;

namespace Rocket.Transports.Sse;

/// <summary>
/// The value of an SSE <c>event:</c> field, checked where it is built: not empty, and no CR, LF or NUL, which would
/// end the field early or be dropped by browsers (HTML, "Server-sent events", section 9.2.6).
/// </summary>
public sealed class SseEventType
{
    /// <summary>Creates an event type.</summary>
    /// <exception cref="ArgumentException">The name is empty or holds CR, LF or NUL.</exception>
    public SseEventType(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            throw new ArgumentException("An SSE event type cannot hold CR, LF or NUL.", nameof(name));
        }

        Name = name;
        Utf8Name = Encoding.UTF8.GetBytes(name);
    }

    /// <summary><c>patch</c>: the type of every Rocket event that carries a JSON Patch.</summary>
    public static SseEventType Patch { get; } = new("patch");

    /// <summary>The name as given.</summary>
    public string Name { get; }

    internal ReadOnlyMemory<byte> Utf8Name { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
