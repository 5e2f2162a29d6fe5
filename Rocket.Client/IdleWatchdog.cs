using System;
using System.Diagnostics;
using System.Threading;

namespace Rocket.Client;

/// <summary>
/// Takes a stream for dead when nothing (not even a heartbeat) has arrived for the idle timeout: it cancels the read,
/// and <see cref="Fired"/> tells that cancellation from a stop. Only for transports that report their last activity
/// (SSE); WebSocket and SignalR notice a dead peer with their own keep-alive.
/// </summary>
internal sealed class IdleWatchdog : IDisposable
{
    private readonly Timer _timer;
    private int _fired;

    private IdleWatchdog(Func<long> lastActivity, TimeSpan idleTimeout, CancellationTokenSource read)
    {
        var idleTicks = Stopwatch.Frequency * idleTimeout.Ticks / TimeSpan.TicksPerSecond;

        // Checked four times per timeout, so silence is noticed at most a quarter of the timeout late.
        _timer = new Timer(
            _ =>
            {
                if (Stopwatch.GetTimestamp() - lastActivity() > idleTicks && Interlocked.Exchange(ref _fired, 1) == 0)
                {
                    read.Cancel();
                }
            },
            null,
            idleTimeout / 4,
            idleTimeout / 4);
    }

    public bool Fired => Volatile.Read(ref _fired) != 0;

    /// <summary>A watchdog over <paramref name="connection"/>, or null when the transport watches itself.</summary>
    public static IdleWatchdog? Start(IStreamConnection connection, TimeSpan idleTimeout, CancellationTokenSource read) =>
        connection.LastActivityTimestamp is null ? null : new IdleWatchdog(() => connection.LastActivityTimestamp ?? Stopwatch.GetTimestamp(), idleTimeout, read);

    public void Dispose() => _timer.Dispose();
}
