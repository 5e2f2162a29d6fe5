using System;

namespace Rocket.Transports;

/// <summary>Names a transport kind (<c>sse</c>, <c>websocket</c>, <c>signalr</c>) in logs, metrics and traces.</summary>
public sealed class TransportDescriptor
{
    /// <summary>Creates a descriptor.</summary>
    /// <param name="name">A short stable name, e.g. <c>sse</c>; not empty.</param>
    public TransportDescriptor(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    /// <summary>A short stable name, e.g. <c>sse</c>, <c>websocket</c>, <c>signalr</c>: the <c>rocket.transport</c> tag of Rocket's metrics.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
