using System.Buffers;
using System.Diagnostics;
using Rocket.Diagnostics;
using Rocket.Transports;

namespace Rocket.Live;

/// <summary>
/// Where a collection's committed events go: the log (<see cref="FanOutLog"/>) that serves its history and its
/// subscribers' queues, and every registered subscriber, each event framed once per transport kind.
/// </summary>
/// <remarks>
/// <para>
/// This is the seam between the collection's sources and its subscribers. It takes events already committed, encoded
/// and numbered (a <see cref="LiveEvent"/> and its cursor), and never sees records or change sets: an event the
/// collection made from its own records (<see cref="LiveCollection.Apply"/>) and one a source committed first (Redis,
/// PostgreSQL, through <see cref="LiveCollection.ApplyCommitted"/>) reach it the same way, and a source's history
/// (<see cref="LiveCollection.Load"/>) becomes its log through <see cref="Restart"/> and <see cref="AppendHistory"/>.
/// </para>
/// <para>
/// Not synchronized: the collection calls it under its lock. Nothing here waits for a subscriber: enqueueing is a
/// limit check and a queue write under the subscriber queue's own lock, and parked readers are resumed off this thread.
/// </para>
/// </remarks>
internal sealed class EventFanOut
{
    private readonly LiveCollection _owner;
    private readonly SubscriberRegistry _subscribers;
    private readonly ArrayBufferWriter<byte> _frameBuffer = new(1024);
    private readonly WakeBatch.Pool _wakeBatches = new();
    private FanOutLog _log;

    public EventFanOut(LiveCollection owner, SubscriberRegistry subscribers, FanOutLog log)
    {
        _owner = owner;
        _subscribers = subscribers;
        _log = log;
    }

    // The events subscribers read their pending frames from; a new one after each Restart.
    public FanOutLog EventLog => _log;

    // Starts a new, empty log whose first event is `sequence` + 1 (a source loaded the collection; its subscribers
    // were ended, since their ranges count in the old log's sequence).
    public void Restart(long sequence)
    {
        _log = new FanOutLog(_log.HistoryMaxEvents, _log.HistoryMaxBytes, _owner.QueueMaxEvents, _owner.QueueMaxBytes);
        _log.StartAfter(sequence);
    }

    // An event of a source's history, logged for replay only: no subscriber is registered yet.
    public void AppendHistory(LiveEvent liveEvent) => _log.Append(liveEvent);

    // The event framed for `framer`'s kind: built once, under the lock, then shared.
    public byte[] Frame(LiveEvent liveEvent, IEventFramer framer) => liveEvent.GetFrame(framer, _frameBuffer);

    // Logs the next committed event and enqueues it to every subscriber. The event may still borrow its patch from the
    // encoder's scratch buffer; it stops borrowing here, before the lock is released.
    public void Publish(LiveEvent liveEvent)
    {
        using var activity = RocketActivities.Source.StartActivity(RocketActivities.PublishName, ActivityKind.Producer);
        var metrics = _owner.Metrics;
        var fanOutStart = 0L;
        if (metrics is not null)
        {
            metrics.Published(_owner.MetricsName);
            if (metrics.TimesDelivery)
            {
                liveEvent.PublishedTimestamp = Stopwatch.GetTimestamp();
            }

            if (metrics.TimesFanOut)
            {
                fanOutStart = liveEvent.PublishedTimestamp != 0 ? liveEvent.PublishedTimestamp : Stopwatch.GetTimestamp();
            }
        }

        if (activity is not null)
        {
            activity.SetTag(RocketMetrics.CollectionTag, _owner.Name);
            activity.SetTag("rocket.cursor", liveEvent.Cursor.ToString());
            activity.SetTag("rocket.subscribers", _subscribers.Count);
        }

        // Framed for the subscribers' first framer (the one FanOut meets first) straight from the scratch buffer, and the
        // event keeps its patch inside that frame: one array per event instead of two. Logged first, so a framer that
        // throws leaves the log and the reset as consistent as before (the event then keeps a copy of its patch); nothing
        // outside this lock reads the event before FanOut.
        _log.Append(liveEvent);
        byte[]? firstFrame = null;
        try
        {
            var subscriptions = _subscribers.Listed;
            if (subscriptions.Count > 0)
            {
                firstFrame = liveEvent.GetFrame(subscriptions[^1].Transport.Framer, _frameBuffer);
            }
        }
        finally
        {
            liveEvent.KeepPatch(firstFrame);
        }

        FanOut(liveEvent);
        if (fanOutStart != 0)
        {
            metrics!.FannedOut(_owner.MetricsName, fanOutStart);
        }
    }

    private void FanOut(LiveEvent liveEvent)
    {
        IEventFramer? lastFramer = null;
        byte[]? lastFrame = null;
        WakeBatch? wakes = null;
        var subscriptions = _subscribers.Listed;
        try
        {
            for (var i = subscriptions.Count - 1; i >= 0; i--)
            {
                var subscription = subscriptions[i];
                var framer = subscription.Transport.Framer;
                if (!ReferenceEquals(framer, lastFramer))
                {
                    lastFrame = liveEvent.GetFrame(framer, _frameBuffer);
                    lastFramer = framer;
                }

                switch (subscription.Enqueue(liveEvent.Cursor.Sequence, lastFrame!.Length))
                {
                    case QueueWrite.ReaderParked:
                        // Resumed in batches, by one thread-pool item per WakeBatch.Capacity subscribers (see WakeBatch).
                        wakes ??= _wakeBatches.Rent();
                        if (wakes.Add(subscription.Queue))
                        {
                            wakes.Dispatch();
                            wakes = null;
                        }

                        break;
                    case QueueWrite.OverLimit:
                        _subscribers.Unregister(subscription);
                        if (subscription.End(_owner.SlowConsumerReason))
                        {
                            Log.SlowConsumer(_owner.Logger, _owner.Name, subscription.Transport.Descriptor.Name, _owner.SlowConsumerReason.Description);
                        }

                        break;
                }
            }
        }
        finally
        {
            // Even when a framer throws part way: the readers taken so far must be resumed.
            wakes?.Dispatch();
        }
    }
}
