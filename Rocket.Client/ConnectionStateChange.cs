using System;

namespace Rocket.Client;

/// <summary>A change of <see cref="LiveCollectionClient.State"/>, with why.</summary>
public sealed class ConnectionStateChange
{
    /// <summary>Creates the event arguments.</summary>
    public ConnectionStateChange(ConnectionState state, string? reason, Exception? exception)
    {
        State = state;
        Reason = reason;
        Exception = exception;
    }

    /// <summary>The new state.</summary>
    public ConnectionState State { get; }

    /// <summary>Why the state changed (the server's close reason, an idle timeout, an error), when known.</summary>
    public string? Reason { get; }

    /// <summary>The failure that ended the previous stream, if any.</summary>
    public Exception? Exception { get; }
}
