using System;
using Microsoft.Extensions.Logging;

namespace Rocket.Live;

// Source-generated logging with stable event ids and names, as ASP.NET Core does.
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Subscriber of collection '{Collection}' on transport '{Transport}' closed: {Reason}", EventName = "SlowConsumer")]
    public static partial void SlowConsumer(ILogger logger, string collection, string transport, string reason);

    [LoggerMessage(2, LogLevel.Debug, "Subscriber of collection '{Collection}' on transport '{Transport}' ended: a write failed", EventName = "TransportFailed")]
    public static partial void TransportFailed(ILogger logger, string collection, string transport, Exception exception);

    [LoggerMessage(3, LogLevel.Debug, "Closing a subscriber of collection '{Collection}' on transport '{Transport}' failed", EventName = "CloseFailed")]
    public static partial void CloseFailed(ILogger logger, string collection, string transport, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "Subscriber of collection '{Collection}' on transport '{Transport}' told to reconnect: its replay could not be read from the collection's source", EventName = "SourceReplayFailed")]
    public static partial void SourceReplayFailed(ILogger logger, string collection, string transport, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "Collection '{Collection}' has a configured epoch, {Epoch}, but keeps its log in memory: after a restart its sequence starts again at 0 under the same epoch, so a client's cursor from before the restart can be resumed against different events. Leave LiveCollectionOptions.Epoch unset (a fresh epoch per process), or load the collection from a durable source such as Redis", EventName = "UntrustedEpoch")]
    public static partial void UntrustedEpoch(ILogger logger, string collection, string epoch);
}
