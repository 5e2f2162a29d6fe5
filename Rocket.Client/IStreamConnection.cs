using System;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Client;

/// <summary>One open stream: events in order, until the server ends it or it fails.</summary>
public interface IStreamConnection : IAsyncDisposable
{
    /// <summary>
    /// The next event, or null when the server ended the stream (then <see cref="CloseReason"/> says why, if it did).
    /// Throws when the connection fails.
    /// </summary>
    ValueTask<StreamEvent?> ReadAsync(CancellationToken cancellationToken = default);

    /// <summary>The server's reason for ending the stream (<c>SlowConsumer: ...</c>), once it has said one.</summary>
    string? CloseReason { get; }

    /// <summary>The reconnection delay the server asked for (SSE <c>retry:</c>), if any.</summary>
    TimeSpan? RetryInterval { get; }

    /// <summary>
    /// <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> of the last bytes received (heartbeats included), for the
    /// client's idle timeout; null when the transport notices a dead peer itself (WebSocket and SignalR keep-alives).
    /// </summary>
    long? LastActivityTimestamp { get; }
}
