using System;

namespace Rocket.Client;

/// <summary>
/// The delays between reconnection attempts: the server's SSE <c>retry:</c> (or <see cref="LiveCollectionClientOptions.InitialReconnectDelay"/>)
/// doubled on each failed attempt up to <see cref="LiveCollectionClientOptions.MaxReconnectDelay"/>, with full jitter
/// when <see cref="LiveCollectionClientOptions.ReconnectJitter"/> is set. Used by the one reconnect loop only.
/// </summary>
internal sealed class ReconnectBackoff(LiveCollectionClientOptions options)
{
    private int _attempt;
    private TimeSpan? _retryHint;

    /// <summary>A stream delivered something: the next outage starts again from the first delay.</summary>
    public void Reset() => _attempt = 0;

    /// <summary>Takes the reconnection delay a server asked for (SSE <c>retry:</c>) as the base from now on.</summary>
    public void UseServerRetry(TimeSpan? retry)
    {
        if (retry is { } value)
        {
            _retryHint = value;
        }
    }

    public TimeSpan Next()
    {
        var baseDelay = _retryHint ?? options.InitialReconnectDelay;
        var delay = Math.Min(baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt++, 20)), options.MaxReconnectDelay.TotalMilliseconds);
        if (options.ReconnectJitter)
        {
            // Full jitter (anywhere from nothing to the whole delay): after a server restart, its thousands of clients
            // come back spread over the window rather than bunched in its second half.
            delay *= Random.Shared.NextDouble();
        }

        return TimeSpan.FromMilliseconds(delay);
    }
}
