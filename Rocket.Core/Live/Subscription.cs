using System;
using System.Buffers;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Diagnostics;
using Rocket.Transports;

namespace Rocket.Live;

/// <summary>
/// One subscriber of a collection: a bounded queue of pending events and a loop that drains it into one
/// <see cref="ITransport"/>. Made by <see cref="LiveCollection.Subscribe(ITransport, string?, CancellationToken, CancellationToken)"/>.
/// </summary>
/// <remarks>
/// <para>
/// The collection's writer only ever enqueues (never waits): a subscriber that stops reading costs the writer one
/// uncontended lock and a limit check per event. The pending events are a range of the collection's shared log, not copies: when the loop
/// wakes it looks their frames up there and writes them with <see cref="ITransport.WriteManyAsync"/>, up to
/// <see cref="MaxBatch"/> frames per write and flush.
/// </para>
/// <para>
/// Events count against the queue's limits until the transport has taken them. When an event would go over a limit the
/// subscription ends with <see cref="CloseStatus.SlowConsumer"/>: what was queued is dropped, the transport is closed
/// with the reason, and the client resumes by cursor. Disposing, or canceling the token given to <c>Subscribe</c>,
/// unregisters it at once.
/// </para>
/// </remarks>
public sealed class Subscription : IDisposable, IAsyncDisposable
{
    // The most frames written (and flushed) at once: a backlog is written in writes of this many, so a write's rented array
    // stays small whatever the backlog, and each flush still carries tens of kilobytes.
    internal const int MaxBatch = 64;

    private readonly LiveCollection _owner;
    private readonly SubscriberQueue _queue = new();
    private readonly CancellationTokenSource _stop = new();
    private CancellationTokenRegistration _callerRegistration;
    private CancellationTokenRegistration _stoppingRegistration;
    private CloseReason? _closeReason;
    private int _wroteSinceHeartbeat;
    private ITimer? _closeTimer;
    private SentTotals? _sentTotals; // this subscriber's collection and transport, joined at its first counted write

    // What this subscription handed its transport, while something listens to the sent totals (SentTotals sums them).
    internal long SentEvents;
    internal long SentBytes;

    internal Subscription(LiveCollection owner, ITransport transport)
    {
        _owner = owner;
        Transport = transport;
        Completion = Task.CompletedTask;
        EventLog = owner.EventLog;
    }

    /// <summary>The transport this subscription writes to.</summary>
    public ITransport Transport { get; }

    /// <summary>Whether the subscription started with a reset (no usable cursor) rather than a replay or nothing.</summary>
    public bool StartedWithReset { get; internal set; }

    /// <summary>The cursor the subscription started from: the reset's, or the client's own.</summary>
    public Cursor StartCursor { get; internal set; }

    /// <summary>Why the subscription ended, or <see langword="null"/> while it runs.</summary>
    public CloseReason? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>Completes (never faults) when the subscription has ended and its loop has stopped.</summary>
    public Task Completion { get; private set; }

    // The subscription's position in its collection's list, or -1 when not registered; guarded by the collection's lock.
    internal int Index { get; set; } = -1;

    // Whether the collection's single registration on the host's stopping token ends this subscription (set before Start).
    internal bool StopsWithCollection { get; set; }

    // The log this subscriber's range points into, set under the collection's lock when it subscribes. A collection that
    // reloads from its source starts a new log and ends its subscribers; one still draining keeps reading the old log,
    // whose sequence numbers are the ones its range was counted in.
    internal FanOutLog EventLog { get; set; }

    /// <summary>Ends the subscription and unregisters it; the transport is left to the host.</summary>
    public void Dispose()
    {
        End(CloseReason.Normal);
        _owner.Unregister(this);
    }

    // The host is stopping: the subscriber is told (an SSE `event: close`, a WebSocket 1001), so it reconnects elsewhere.
    internal void Stop()
    {
        End(CloseReason.ShuttingDown);
        _owner.Unregister(this);
    }

    /// <summary>
    /// Ends the subscription with <paramref name="reason"/> and unregisters it; for <see cref="CloseStatus.SlowConsumer"/>,
    /// <see cref="CloseStatus.ShuttingDown"/> and <see cref="CloseStatus.Expired"/> the transport is then closed with it
    /// (an SSE <c>event: close</c>, a WebSocket close message and code), after what was already in flight.
    /// </summary>
    public void Close(CloseReason reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        End(reason);
        _owner.Unregister(this);
    }

    /// <summary>
    /// Closes the subscription with <paramref name="reason"/> once <paramref name="delay"/> has passed, unless it ended
    /// first: how a host bounds a stream by the lifetime of the authentication it was opened with. One per subscription;
    /// a later call replaces the earlier.
    /// </summary>
    public void CloseAfter(TimeSpan delay, CloseReason reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        if (delay <= TimeSpan.Zero)
        {
            Close(reason);
            return;
        }

        var timer = TimeProvider.System.CreateTimer(static state => ((Tuple<Subscription, CloseReason>)state!).Item1.Close(((Tuple<Subscription, CloseReason>)state).Item2), Tuple.Create(this, reason), delay, Timeout.InfiniteTimeSpan);
        Interlocked.Exchange(ref _closeTimer, timer)?.Dispose();
        if (Volatile.Read(ref _closeReason) is not null)
        {
            // Ended meanwhile: the loop may have disposed the previous timer already.
            Interlocked.Exchange(ref _closeTimer, null)?.Dispose();
        }
    }

    /// <summary>Ends the subscription, unregisters it, and waits for its loop to stop.</summary>
    public async ValueTask DisposeAsync()
    {
        Dispose();
        await Completion.ConfigureAwait(false);
    }

    // Called under the collection's lock, after the event is in the log. Never blocks: OverLimit means the caller ends
    // the subscription; ReaderParked, that the caller resumes the loop later (Queue.ResumeReader, see WakeBatch). One
    // lock round trip on the queue, which keeps the account.
    internal QueueWrite Enqueue(long sequence, int frameLength) =>
        Volatile.Read(ref _closeReason) is not null
            ? QueueWrite.Queued
            : _queue.Enqueue(sequence, frameLength, _owner.QueueMaxEvents, _owner.QueueMaxBytes);

    // The queue the loop parks on, for the collection's fan-out to resume.
    internal SubscriberQueue Queue => _queue;

    // Called under the collection's lock when subscribing: the events a cursor missed, already checked by Fits.
    internal void EnqueueReplay(long first, int count, long bytes) => _queue.EnqueueReplay(first, count, bytes);

    // Called under the collection's lock when subscribing: the reset, which is not in the log, goes first.
    internal void EnqueueReset(byte[] frame) => _queue.EnqueueReset(frame);

    // Called by the collection's heartbeat tick under its lock. The heartbeat is sent only to a subscriber that was written
    // nothing since the last tick and has nothing waiting (the queue checks that).
    internal void TryHeartbeat()
    {
        if (Interlocked.Exchange(ref _wroteSinceHeartbeat, 0) == 0 && Volatile.Read(ref _closeReason) is null)
        {
            _queue.RequestHeartbeat();
        }
    }

    // Whether frames totalling `bytes` fit into the (still empty) queue: decides between a replay and a reset.
    internal bool Fits(int events, long bytes) => events <= _owner.QueueMaxEvents && (events <= 1 || bytes <= _owner.QueueMaxBytes);

    // `replay`: the events a cursor older than the history missed, to be read from the collection's source before the
    // events the queue gets (from `replay.Through` + 1 on). Passed here rather than kept in a field, so a subscriber that
    // needs none carries nothing for it.
    internal void Start(CancellationToken cancellationToken, CancellationToken stoppingToken, SourceReplay? replay = null)
    {
        // Registered before the loop starts, so the loop always sees and disposes them; an already-canceled token ends the
        // subscription at once and the loop then stops at its first step. Both are disposed by the loop when it ends, so a
        // host needs no linked token source, and no state machine of its own waiting to dispose one.
        if (cancellationToken.CanBeCanceled)
        {
            _callerRegistration = cancellationToken.Register(static state => ((Subscription)state!).Dispose(), this);
        }

        if (stoppingToken.CanBeCanceled)
        {
            _stoppingRegistration = stoppingToken.UnsafeRegister(static state => ((Subscription)state!).Stop(), this);
        }

        // The loop's own task is the completion: Task.Run would keep a promise wrapping it (and an awaiter of our own a
        // delegate) alive for the subscription's whole life. Its first step (usually the reset, or the replay) runs on
        // the caller's thread, outside the collection's lock; everything after an await runs on the thread pool.
        Completion = replay is null ? RunAsync() : RunAfterReplayAsync(replay);
    }

    private async Task RunAfterReplayAsync(SourceReplay replay)
    {
        try
        {
            await ReplayFromSourceAsync(replay).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Ended meanwhile: the loop below finds the reason and stops.
        }
#pragma warning disable CA1031 // A failing transport ends its own subscription, as in the loop.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            if (End(new CloseReason(CloseStatus.TransportFailed, "a write to the transport failed")))
            {
                Log.TransportFailed(_owner.Logger, _owner.Name, Transport.Descriptor.Name, exception);
            }
        }

        // The loop writes what the queue gathered meanwhile, or, if the subscription ended, cleans up and closes.
        await RunAsync().ConfigureAwait(false);
    }

    // May be called from the collection's writer under its lock, so it must not run anything inline: the queue runs its
    // reader's continuation on the thread pool, and CancelAsync runs the token's callbacks there too.
    internal bool End(CloseReason reason)
    {
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is not null)
        {
            return false;
        }

        _queue.Complete();
        _ = _stop.CancelAsync();
        _owner.Metrics?.Ended(_owner.MetricsName, Transport.Descriptor.Name, reason.Status);
        return true;
    }

    // Everything it keeps across an await lives in its state machine for the subscription's whole life, so it keeps
    // little: the transport's framer and the stop token are read where needed, and a lone frame is written before the
    // range, not carried through the loop.
    private async Task RunAsync()
    {
        try
        {
            while (true)
            {
                if (!_queue.TryTake(out var lone, out var next, out var frames, out _))
                {
                    if (!await _queue.WaitAsync().ConfigureAwait(false))
                    {
                        break;
                    }

                    continue;
                }

                if (Volatile.Read(ref _closeReason) is not null)
                {
                    break;
                }

                if (lone is null && frames == 0)
                {
                    // A heartbeat asked for while nothing was queued; events sent instead keep the link alive as well.
                    await Transport.HeartbeatAsync(_stop.Token).ConfigureAwait(false);
                    continue;
                }

                Volatile.Write(ref _wroteSinceHeartbeat, 1);
                long bytes;
                if (lone is { } reset)
                {
                    // The reset, which is not in the log: a write of its own.
                    bytes = reset.Length;
                    await Transport.WriteAsync(reset, _stop.Token).ConfigureAwait(false);
                    _queue.Written(1, bytes);
                    if (_owner.Metrics is { } resetMetrics)
                    {
                        CountSent(resetMetrics, 1, bytes);
                    }
                }

                while (frames > 0)
                {
                    var take = Math.Min(frames, MaxBatch);
                    bytes = 0;
                    if (take == 1)
                    {
                        // A lone frame: one write, and no array.
                        if (FrameAt(next++) is not { } frame)
                        {
                            break;
                        }

                        bytes = frame.Length;
                        await Transport.WriteAsync(frame, _stop.Token).ConfigureAwait(false);
                    }
                    else
                    {
                        // The frames of one write, looked up in the collection's log, in an array rented for the write
                        // (a subscriber keeps none between writes, and a steady stream reuses the pool's per-thread one).
                        var batch = ArrayPool<ReadOnlyMemory<byte>>.Shared.Rent(take);
                        try
                        {
                            var filled = 0;
                            while (filled < take && FrameAt(next) is { } frame)
                            {
                                batch[filled++] = frame;
                                bytes += frame.Length;
                                next++;
                            }

                            if (filled < take)
                            {
                                break;
                            }

                            // Once the write is over (or canceled) the transport reads the array no more (ITransport's contract).
                            await Transport.WriteManyAsync(batch.AsMemory(0, take), _stop.Token).ConfigureAwait(false);
                        }
                        finally
                        {
                            // Cleared (the part used), so the pool does not keep old events alive.
                            Array.Clear(batch, 0, take);
                            ArrayPool<ReadOnlyMemory<byte>>.Shared.Return(batch);
                        }
                    }

                    frames -= take;
                    _queue.Written(take, bytes);
                    if (_owner.Metrics is { } metrics)
                    {
                        Measure(metrics, next - take, take, bytes);
                    }
                }

                if (frames > 0)
                {
                    // The log no longer holds an event this subscriber has not written: it fell too far behind.
                    if (End(_owner.SlowConsumerReason))
                    {
                        Log.SlowConsumer(_owner.Logger, _owner.Name, Transport.Descriptor.Name, _owner.SlowConsumerReason.Description);
                    }

                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Cancellation at the transport's edge is a normal end: the reason is already set.
        }
#pragma warning disable CA1031 // A failing transport ends its own subscription, never the collection or the host.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            if (End(new CloseReason(CloseStatus.TransportFailed, "a write to the transport failed")))
            {
                Log.TransportFailed(_owner.Logger, _owner.Name, Transport.Descriptor.Name, exception);
            }
        }
        finally
        {
            End(CloseReason.Normal);
            _owner.Unregister(this);
            _sentTotals?.Leave(this); // the loop's last step: nothing counts after it

            // Not awaited (an await in a finally costs the state machine two fields for its whole life): a callback
            // running on another thread (Dispose, on the request's token) never waits for this loop, so this cannot
            // deadlock, and this loop never runs inline in a callback (the queue resumes it on the thread pool).
            _callerRegistration.Dispose();
            _stoppingRegistration.Dispose();
            Interlocked.Exchange(ref _closeTimer, null)?.Dispose();
        }

        var reason = Volatile.Read(ref _closeReason)!;
        if (reason.Status is CloseStatus.SlowConsumer or CloseStatus.ShuttingDown or CloseStatus.Expired)
        {
            await CloseTransportAsync(reason).ConfigureAwait(false);
        }
    }

    // Writes the events a source's log holds after the cursor, page by page; the live events meanwhile wait in the queue,
    // within its limits as always. If the log no longer has them all (trimmed, another epoch, the source unreachable) the
    // subscriber is told to reconnect: its cursor then is the last event it got, and it resumes or gets a reset.
    private async Task ReplayFromSourceAsync(SourceReplay replay)
    {
        var after = replay.From;
        var scratch = new ArrayBufferWriter<byte>(1024);
        var framer = Transport.Framer;
        while (after.Sequence < replay.Through && Volatile.Read(ref _closeReason) is null)
        {
            var wanted = (int)Math.Min(SourceReplayPage, replay.Through - after.Sequence);
            IReadOnlyList<(Cursor Cursor, ChangeSet Changes)> page;
            try
            {
                page = await replay.Source.ReadAsync(after, wanted, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The source failed, not the transport: the subscriber is told to reconnect, the collection goes on.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                if (End(SourceHistoryUnavailable))
                {
                    Log.SourceReplayFailed(_owner.Logger, _owner.Name, Transport.Descriptor.Name, exception);
                }

                return;
            }

            if (page.Count == 0)
            {
                End(SourceHistoryUnavailable);
                return;
            }

            var frames = new ReadOnlyMemory<byte>[page.Count];
            long bytes = 0;
            for (var i = 0; i < page.Count; i++)
            {
                var (cursor, changes) = page[i];
                if (cursor.Epoch != after.Epoch || cursor.Sequence != after.Sequence + 1)
                {
                    End(SourceHistoryUnavailable);
                    return;
                }

                var liveEvent = _owner.EncodeFromSource(cursor, changes);
                scratch.ResetWrittenCount();
                framer.Frame(liveEvent, scratch);
                frames[i] = scratch.WrittenSpan.ToArray();
                bytes += frames[i].Length;
                after = cursor;
            }

            for (var at = 0; at < frames.Length; at += MaxBatch)
            {
                await Transport.WriteManyAsync(frames.AsMemory(at, Math.Min(MaxBatch, frames.Length - at)), _stop.Token).ConfigureAwait(false);
            }

            Volatile.Write(ref _wroteSinceHeartbeat, 1);
            if (_owner.Metrics is { } metrics)
            {
                CountSent(metrics, frames.Length, bytes);
            }
        }
    }

    // After a write of `count` events from `first` on: what was sent, and how long the first of them took to get out.
    private void Measure(RocketMetrics metrics, long first, int count, long bytes)
    {
        CountSent(metrics, count, bytes);

        // The lag is sampled: writes that start at every 16th event's sequence, so a subscriber that gets one event per
        // write pays the log lookup and the histogram record for one write in 16, and every subscriber samples the same events.
        if ((first & 15) == 0 && metrics.TimesDelivery && EventLog.TryGet(first) is { PublishedTimestamp: not 0 } written)
        {
            metrics.Delivered(_owner.MetricsName, Transport.Descriptor.Name, written.PublishedTimestamp);
        }
    }

    private void CountSent(RocketMetrics metrics, int count, long bytes)
    {
        if (!metrics.CountsSent)
        {
            return;
        }

        if (_sentTotals is null)
        {
            _sentTotals = metrics.SentTotalsFor(_owner.MetricsName, Transport.Descriptor.Name);
            _sentTotals.Join(this);
        }

        // Only this subscription's write loop writes these; a listener's collection reads them.
        Volatile.Write(ref SentEvents, SentEvents + count);
        Volatile.Write(ref SentBytes, SentBytes + bytes);
    }

    // How many events one read of a source's log asks for.
    private const int SourceReplayPage = 512;

    private static readonly CloseReason SourceHistoryUnavailable = new(CloseStatus.ShuttingDown, "the events after your cursor could not be read from the collection's store; reconnect and resume from your last cursor");

    // The events after `From` up to `Through` that a subscriber reads from the collection's source.
    internal sealed record SourceReplay(IHistorySource Source, Cursor From, long Through);

    // The frame of the log's event `sequence` for this transport, or null when the log no longer holds it.
    private byte[]? FrameAt(long sequence) => EventLog.TryGet(sequence)?.FindFrame(Transport.Framer);

    private async Task CloseTransportAsync(CloseReason reason)
    {
        using var timeout = new CancellationTokenSource(_owner.CloseTimeout);
        try
        {
            await Transport.CloseAsync(reason, timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The peer is being dropped anyway; a failed close is logged, not thrown into nowhere.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.CloseFailed(_owner.Logger, _owner.Name, Transport.Descriptor.Name, exception);
        }
    }
}
