using Rocket.Transports;

namespace Rocket.Live;

/// <summary>
/// What a new subscriber starts with: the events after its cursor, replayed from the collection's history or, when
/// they are older, from a source's log (<see cref="IHistorySource"/>); otherwise the reset of the current state.
/// </summary>
/// <remarks>
/// Like the fan-out it reads only committed events (the log, or the source's own), whoever committed them. Not
/// synchronized: the collection calls it under its lock, before it lists the subscription, so the replay and the live
/// events after it leave no gap and no duplicate. A struct held in the collection's field: it has no state of its own,
/// and every collection (a family may hold 100,000) would otherwise carry one more object for it.
/// </remarks>
internal readonly struct EventReplay
{
    private readonly EventFanOut _fanOut;
    private readonly EventEncoder _encoder;

    public EventReplay(EventFanOut fanOut, EventEncoder encoder)
    {
        _fanOut = fanOut;
        _encoder = encoder;
    }

    // Queues the subscription's start and sets its StartCursor and StartedWithReset; `from` is the client's cursor if it
    // parsed, `current` the collection's. Returns the replay the subscription reads from the source first, if any.
    public Subscription.SourceReplay? Start(Subscription subscription, IEventFramer framer, Cursor? from, Cursor current, IHistorySource? source)
    {
        Subscription.SourceReplay? sourceReplay = null;
        if (!(from is { } cursor && (TryReplay(subscription, framer, cursor, current) || TryReplayFromSource(subscription, cursor, current, source, out sourceReplay))))
        {
            var reset = _encoder.GetReset(current);
            subscription.EnqueueReset(_fanOut.Frame(reset, framer));
            subscription.StartedWithReset = true;
            subscription.StartCursor = reset.Cursor;
        }

        return sourceReplay;
    }

    // Enqueues the events after `from` if they are all still in the history and fit the queue; false means "reset".
    private bool TryReplay(Subscription subscription, IEventFramer framer, Cursor from, Cursor current)
    {
        if (from.Epoch != current.Epoch || from.Sequence > current.Sequence)
        {
            return false;
        }

        var missing = current.Sequence - from.Sequence;
        if (missing == 0)
        {
            subscription.StartCursor = from;
            return true;
        }

        var log = _fanOut.EventLog;
        if (missing > log.HistoryCount)
        {
            return false;
        }

        var first = from.Sequence + 1;
        long bytes = 0;
        for (var sequence = first; sequence <= current.Sequence; sequence++)
        {
            // Frames every missed event for this transport kind now, under the lock, so the subscription's loop finds it.
            bytes += _fanOut.Frame(log.Get(sequence), framer).Length;
        }

        if (!subscription.Fits((int)missing, bytes))
        {
            return false;
        }

        subscription.EnqueueReplay(first, (int)missing, bytes);
        subscription.StartCursor = from;
        return true;
    }

    // A cursor of this epoch older than the history, or whose replay does not fit the queue: when the source's log still
    // holds the events after it, the subscription reads them from there in pages before it goes on with the events that
    // follow the current one, which it is registered for now. So the hand-over has no gap and no duplicate. Each event
    // read there is encoded by LiveCollection.EncodeFromSource, as the history a source loads is.
    private static bool TryReplayFromSource(Subscription subscription, Cursor from, Cursor current, IHistorySource? source, out Subscription.SourceReplay? replay)
    {
        replay = null;
        if (source is null || from.Epoch != current.Epoch || from.Sequence >= current.Sequence || !source.Covers(from, current.Sequence))
        {
            return false;
        }

        replay = new Subscription.SourceReplay(source, from, current.Sequence);
        subscription.StartCursor = from;
        return true;
    }
}
