using System;

namespace Rocket.Client;

/// <summary>One event of a stream: its cursor and its JSON Patch, as the transport carried them.</summary>
public sealed class StreamEvent
{
    /// <summary>Creates an event.</summary>
    /// <param name="cursor">The event's cursor (<c>id</c>); null if the server sent none.</param>
    /// <param name="utf8Patch">The JSON Patch array as UTF-8 JSON.</param>
    /// <param name="isReset">Whether the transport marks it as a reset (SignalR does); null to tell from the patch.</param>
    public StreamEvent(string? cursor, ReadOnlyMemory<byte> utf8Patch, bool? isReset = null)
    {
        Cursor = cursor;
        Patch = utf8Patch;
        IsReset = isReset;
    }

    /// <summary>The event's cursor: resume after it.</summary>
    public string? Cursor { get; }

    /// <summary>The JSON Patch array, UTF-8.</summary>
    public ReadOnlyMemory<byte> Patch { get; }

    /// <summary>Whether the transport says this is a reset; null when it does not say.</summary>
    public bool? IsReset { get; }
}
