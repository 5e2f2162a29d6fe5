namespace Rocket.AspNetCore;

/// <summary>HTTP header names Rocket reads and writes.</summary>
public static class RocketHeaders
{
    /// <summary>
    /// <c>Last-Event-ID</c>: on a document GET's response, the cursor of the state it shows; on a stream request, the
    /// cursor to resume from (the SSE specification's own header).
    /// </summary>
    public const string LastEventId = "Last-Event-ID";
}
