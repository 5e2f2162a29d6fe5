using System;
using System.Diagnostics;
using System.Numerics;
using System.Threading;

namespace Rocket.Live;

/// <summary>
/// A collection's recent events, kept once for two readers: reconnecting clients (the history) and subscribers that
/// have not written their pending events yet (the queue window). Subscribers hold positions in it, not copies.
/// </summary>
/// <remarks>
/// <para>
/// The log keeps the newest events that either window needs. The history window is bounded by
/// <see cref="LiveCollectionOptions.HistoryMaxEvents"/> and <see cref="LiveCollectionOptions.HistoryMaxBytes"/>. The
/// queue window is bounded by the subscriber queue's limits: a subscriber is closed as a slow consumer before its pending
/// events exceed <see cref="LiveCollectionOptions.SubscriberQueueMaxEvents"/> or, framed,
/// <see cref="LiveCollectionOptions.SubscriberQueueMaxBytes"/> (unless it is one event), so its pending events are
/// always among the newest ones whose patches fit those limits (every built-in frame holds its whole patch, so a frame
/// is never shorter than its patch). Past both windows an event is dropped. With the defaults the windows nearly
/// coincide, so sharing the log costs about nothing over the history alone.
/// </para>
/// <para>
/// Only the collection's writer appends, under its lock. Subscription loops read without it: slots are indexed by
/// sequence number in a power-of-two ring, and a reader checks the sequence of the event it finds, so a slot reused by
/// a newer event (a subscriber that fell behind a framer whose frames are shorter than its patches) reads as missing,
/// never as the wrong event. Growing replaces the ring; a reader still holding the old one finds the same events in it.
/// </para>
/// </remarks>
internal sealed class FanOutLog
{
    private const int InitialCapacity = 16;

    private readonly int _historyMaxEvents;
    private readonly long _historyMaxBytes;
    private readonly int _queueMaxEvents;
    private readonly long _queueMaxBytes;
    private LiveEvent?[] _slots = [];
    private long _newest;
    private int _retained;
    private int _historyCount;
    private long _historyBytes;
    private int _queueCount;
    private long _queueBytes;

    public FanOutLog(int historyMaxEvents, long historyMaxBytes, int queueMaxEvents, long queueMaxBytes)
    {
        _historyMaxEvents = historyMaxEvents;
        _historyMaxBytes = historyMaxBytes;
        _queueMaxEvents = queueMaxEvents;
        _queueMaxBytes = queueMaxBytes;
    }

    /// <summary>
    /// Makes an empty log continue after <paramref name="sequence"/>: its first event is <paramref name="sequence"/> + 1.
    /// A log starts after 0 unless told otherwise; a collection loaded from a source starts after the source's position.
    /// </summary>
    public void StartAfter(long sequence)
    {
        Debug.Assert(_retained == 0, "Only an empty log is started.");
        _newest = sequence;
    }

    /// <summary>The history's limit in events, as configured.</summary>
    public int HistoryMaxEvents => _historyMaxEvents;

    /// <summary>The history's limit in patch bytes, as configured.</summary>
    public long HistoryMaxBytes => _historyMaxBytes;

    /// <summary>How many of the newest events a cursor can be resumed from.</summary>
    public int HistoryCount => _historyCount;

    /// <summary>How many events the log holds (for tests and diagnostics).</summary>
    public int RetainedCount => _retained;

    /// <summary>The length of the ring (for tests).</summary>
    public int Capacity => _slots.Length;

    /// <summary>Appends the next event (its sequence follows the newest one's) and drops what neither window needs. Under the collection's lock.</summary>
    public void Append(LiveEvent liveEvent)
    {
        var sequence = liveEvent.Cursor.Sequence;
        Debug.Assert(_newest == 0 || sequence == _newest + 1, "Events are appended in sequence order.");
        var size = liveEvent.Patch.Length;

        while (_historyCount > 0 && (_historyCount >= _historyMaxEvents || _historyBytes + size > _historyMaxBytes))
        {
            _historyBytes -= Get(_newest - _historyCount + 1).Patch.Length;
            _historyCount--;
        }

        // An event larger than the whole history may hold is kept out of it, so older cursors get a reset, not a gap.
        if (_historyMaxEvents > 0 && size <= _historyMaxBytes)
        {
            _historyCount++;
            _historyBytes += size;
        }

        while (_queueCount > 0 && (_queueCount >= _queueMaxEvents || _queueBytes + size > _queueMaxBytes))
        {
            _queueBytes -= Get(_newest - _queueCount + 1).Patch.Length;
            _queueCount--;
        }

        // The queue window always holds the newest event: an empty subscriber queue takes an event of any size.
        _queueCount++;
        _queueBytes += size;

        var retained = Math.Max(_historyCount, _queueCount);
        var oldest = sequence - retained + 1;
        for (var dropped = _newest - _retained + 1; dropped < oldest; dropped++)
        {
            _slots[Slot(_slots, dropped)] = null;
        }

        if (retained > _slots.Length)
        {
            Grow(retained, oldest);
        }

        Volatile.Write(ref _slots[Slot(_slots, sequence)], liveEvent);
        _newest = sequence;
        _retained = retained;
    }

    /// <summary>The event with <paramref name="sequence"/>, if the log still holds it. Safe without the collection's lock.</summary>
    public LiveEvent? TryGet(long sequence)
    {
        var slots = Volatile.Read(ref _slots);
        if (slots.Length == 0)
        {
            return null;
        }

        var found = Volatile.Read(ref slots[Slot(slots, sequence)]);
        return found is not null && found.Cursor.Sequence == sequence ? found : null;
    }

    /// <summary>An event the caller knows is held (within <see cref="HistoryCount"/> of the newest). Under the collection's lock.</summary>
    public LiveEvent Get(long sequence)
    {
        var found = _slots[Slot(_slots, sequence)];
        Debug.Assert(found is not null && found.Cursor.Sequence == sequence, "Only held events are asked for under the lock.");
        return found!;
    }

    private static int Slot(LiveEvent?[] slots, long sequence) => (int)(sequence & (slots.Length - 1));

    // Moves the held events (oldest up to the newest before the one being appended) into a ring at least `needed` long.
    private void Grow(int needed, long oldest)
    {
        var grown = new LiveEvent?[Math.Max(InitialCapacity, (int)BitOperations.RoundUpToPowerOf2((uint)needed))];
        for (var sequence = oldest; sequence <= _newest; sequence++)
        {
            grown[Slot(grown, sequence)] = _slots[Slot(_slots, sequence)];
        }

        Volatile.Write(ref _slots, grown);
    }
}
