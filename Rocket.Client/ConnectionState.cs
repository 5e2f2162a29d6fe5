namespace Rocket.Client;

/// <summary>The state of a <see cref="LiveCollectionClient"/>'s connection.</summary>
public enum ConnectionState
{
    /// <summary>Not started, or the first fetch and connection are under way.</summary>
    Connecting,

    /// <summary>A stream is open and its events are being applied.</summary>
    Live,

    /// <summary>The stream ended or failed; the client waits out its backoff and resumes from its last cursor.</summary>
    Reconnecting,

    /// <summary>Disposed: nothing more will arrive.</summary>
    Stopped,
}
