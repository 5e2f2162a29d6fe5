using System;

namespace Rocket.Transports;

/// <summary>Why a subscription ended: a status for machines and a sentence for people (ASCII, one line).</summary>
public sealed class CloseReason
{
    /// <summary>Creates a reason.</summary>
    /// <exception cref="ArgumentException"><paramref name="description"/> is empty or has a line break.</exception>
    public CloseReason(CloseStatus status, string description)
    {
        ArgumentException.ThrowIfNullOrEmpty(description);
        if (description.AsSpan().ContainsAny('\r', '\n', '\0'))
        {
            // It may end up in an SSE comment or a WebSocket close frame, where a line break would end it early.
            throw new ArgumentException("A close reason must be one line.", nameof(description));
        }

        Status = status;
        Description = description;
    }

    /// <summary>The host ended the subscription.</summary>
    public static CloseReason Normal { get; } = new(CloseStatus.Normal, "the subscription ended");

    /// <summary>The authentication the stream was opened with expired.</summary>
    public static CloseReason Expired { get; } = new(CloseStatus.Expired, "the authentication this stream was opened with expired; sign in again and resume from your last cursor");

    /// <summary>The collection is shutting down.</summary>
    public static CloseReason ShuttingDown { get; } = new(CloseStatus.ShuttingDown, "the collection is shutting down; reconnect and resume from your last cursor");

    /// <summary>What happened, for machines.</summary>
    public CloseStatus Status { get; }

    /// <summary>What happened and what to do, for people.</summary>
    public string Description { get; }

    /// <summary>The reason for a subscriber whose queue overflowed, naming its limits.</summary>
    public static CloseReason SlowConsumer(int maxEvents, long maxBytes) =>
        new(CloseStatus.SlowConsumer, $"slow consumer: more than {maxEvents} events or {maxBytes} bytes queued; resume from your last cursor");

    /// <inheritdoc/>
    public override string ToString() => $"{Status}: {Description}";
}
