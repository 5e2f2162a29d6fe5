namespace Rocket.Client.SignalR;

/// <summary>The SignalR hub protocol a <see cref="SignalRConnector"/> speaks.</summary>
public enum SignalRHubProtocol
{
    /// <summary>SignalR's JSON protocol: the patch arrives as a JSON array.</summary>
    Json,

    /// <summary>SignalR's MessagePack protocol: the patch arrives as a string holding the JSON text.</summary>
    MessagePack,
}
