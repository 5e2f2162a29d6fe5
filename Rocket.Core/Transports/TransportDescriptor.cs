using System;

namespace Rocket.Transports;

/// <summary>A small description of a transport kind: its name, media type or subprotocol, and capabilities.</summary>
public sealed class TransportDescriptor
{
    /// <summary>Creates a descriptor.</summary>
    /// <param name="name">A short stable name, e.g. <c>sse</c>; not empty.</param>
    /// <param name="mediaType">The media type the transport serves, e.g. <c>text/event-stream</c>, if any.</param>
    /// <param name="subprotocol">The WebSocket subprotocol it speaks, if any.</param>
    /// <param name="capabilities">What it can do. Default <see cref="TransportCapabilities.None"/>.</param>
    public TransportDescriptor(string name, string? mediaType = null, string? subprotocol = null, TransportCapabilities capabilities = TransportCapabilities.None)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        MediaType = mediaType;
        Subprotocol = subprotocol;
        Capabilities = capabilities;
    }

    /// <summary>A short stable name, e.g. <c>sse</c>, <c>websocket</c>, <c>signalr</c>.</summary>
    public string Name { get; }

    /// <summary>The media type the transport serves, or <see langword="null"/>.</summary>
    public string? MediaType { get; }

    /// <summary>The WebSocket subprotocol the transport speaks, or <see langword="null"/>.</summary>
    public string? Subprotocol { get; }

    /// <summary>What the transport can do.</summary>
    public TransportCapabilities Capabilities { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
