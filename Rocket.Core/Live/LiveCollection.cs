using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rocket.Diagnostics;
using Rocket.Transports;

namespace Rocket.Live;

/// <summary>
/// A live collection: records keyed by string id and held as UTF-8 JSON, an event log with a bounded history, and the
/// subscribers the events fan out to. The document it serves is <c>{"&lt;name&gt;":{"&lt;id&gt;":record, ...}}</c>;
/// every event is a JSON Patch against it.
/// </summary>
/// <remarks>
/// <para>
/// One lock makes the collection single-writer: applying a change set checks it, updates the records, encodes the event
/// once, appends it to the history and enqueues it to every subscriber, all before any snapshot or subscribe can look.
/// So a snapshot and its cursor always agree, and a subscribe with a cursor replays and goes live with no gap and no
/// duplicate. Nothing under the lock waits for a subscriber: enqueueing is a limit check and a queue write, under
/// the subscriber queue's own lock.
/// </para>
/// <para>
/// Each event is framed at most once per transport kind and kept once, in a log shared by the history and the
/// subscribers: a subscriber's queue is a range of sequence numbers in it, and every subscriber of a kind is handed the
/// same bytes, so fan-out allocates nothing per subscriber, however far behind it is.
/// </para>
/// </remarks>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "A collection is the REST domain term (GET /messages), the name users know; it is not a .NET collection type.")]
public sealed partial class LiveCollection : IDisposable
{
    // The parts (sealed classes, and one struct) have no lock of their own and are called under this one (the registry
    // takes it itself for its timer, the host's stopping token and Unregister): the records and their checks, the
    // encoder, the subscriber registry, and the fan-out and replay, which take committed events (a LiveEvent and its
    // cursor) and never see who committed them. The cursor (epoch, sequence) and the flags stay here, under the lock.
    private readonly Lock _lock = new();
    private readonly RecordTable _records;
    private readonly EventFanOut _fanOut;
    private readonly SubscriberRegistry _subscribers;
    private readonly EventEncoder _encoder;
    private readonly EventReplay _replay;
    private readonly int _queueMaxEvents;
    private readonly long _queueMaxBytes;
    private readonly TimeSpan _closeTimeout;
    private readonly CloseReason _slowConsumer;
    private readonly ILogger _logger;
    private long _sequence;
    private bool _disposed;
    private uint _epoch;

    // Set once a source (Redis, a database) loads the collection: from then on only the source writes to it.
    private bool _replica;

    /// <summary>Creates an empty collection.</summary>
    /// <param name="name">The collection's name: the member of the document and the first segment of every path.</param>
    /// <param name="options">Its settings; <see langword="null"/> for the defaults. Read once, here.</param>
    /// <param name="logger">Where slow consumers and transport failures are logged; none by default.</param>
    public LiveCollection(string name, LiveCollectionOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        options ??= new LiveCollectionOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.HistoryMaxEvents, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.HistoryMaxBytes, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SubscriberQueueMaxEvents, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SubscriberQueueMaxBytes, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CloseTimeout, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRecordBytes, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxSubscribers, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRecordDepth, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.MaxRecordDepth, LiveCollectionOptions.MaxRecordDepthLimit, nameof(options));

        Name = name;
        DocumentName = name[(name.LastIndexOf('/') + 1)..];
        MetricsName = name;
        _epoch = options.Epoch ?? Cursor.NewEpoch();
        _queueMaxEvents = options.SubscriberQueueMaxEvents;
        _queueMaxBytes = options.SubscriberQueueMaxBytes;
        _closeTimeout = options.CloseTimeout;
        _records = new RecordTable(name, DocumentName, options.MaxRecordBytes, options.MaxRecordDepth);
        _encoder = new EventEncoder(name, DocumentName, _records, options.UpdateEncoding);
        _subscribers = new SubscriberRegistry(_lock, name, options.MaxSubscribers, options.HeartbeatInterval);
        _fanOut = new EventFanOut(this, _subscribers, new FanOutLog(options.HistoryMaxEvents, options.HistoryMaxBytes, options.SubscriberQueueMaxEvents, options.SubscriberQueueMaxBytes));
        _replay = new EventReplay(_fanOut, _encoder);
        _slowConsumer = CloseReason.SlowConsumer(_queueMaxEvents, _queueMaxBytes);
        _logger = logger ?? NullLogger.Instance;
        if (options.Epoch is { } configured)
        {
            Log.UntrustedEpoch(_logger, name, configured.ToString("x8", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The collection's name: its registered name, or a family instance's path (<c>rooms/lobby/messages</c>).</summary>
    public string Name { get; }

    /// <summary>
    /// The member of the document that holds the records, <c>{"&lt;DocumentName&gt;":{...}}</c>, and the first segment
    /// of every patch path: the last segment of <see cref="Name"/> (so <c>messages</c> for <c>rooms/lobby/messages</c>),
    /// the name itself when it has no <c>/</c>. A client can take it from the collection's URL.
    /// </summary>
    public string DocumentName { get; }

    // The name metrics are recorded under: the collection's own, or its family's template (bounded attribute values).
    internal string MetricsName { get; init; }

    /// <summary>The epoch of this collection's cursors (a source that reloads the collection may change it).</summary>
    public uint Epoch
    {
        get
        {
            lock (_lock)
            {
                return _epoch;
            }
        }
    }

    /// <summary>The cursor of the current state.</summary>
    public Cursor Cursor
    {
        get
        {
            lock (_lock)
            {
                return new Cursor(_epoch, _sequence);
            }
        }
    }

    /// <summary>How many records the collection holds.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _records.Count;
            }
        }
    }

    /// <summary>How many subscriptions are registered.</summary>
    public int SubscriberCount
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>
    /// Whether a subscribe now would be admitted (the collection's and the process's subscriber limits): for a host to
    /// refuse a stream request (503) before it starts the response. <see cref="Subscribe"/> checks again.
    /// </summary>
    public bool CanSubscribe
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.HasRoom;
            }
        }
    }

    // The process's subscriber limit, shared by the collections of one registry; none for a collection made alone.
    internal SubscriberBudget? Budget
    {
        get => _subscribers.Budget;
        set => _subscribers.Budget = value;
    }

    // Whether Dispose was called (for health checks).
    internal bool IsDisposed
    {
        get
        {
            lock (_lock)
            {
                return _disposed;
            }
        }
    }

    // The process's instruments (the registry's, from IMeterFactory); none for a collection made alone.
    internal RocketMetrics? Metrics { get; set; }

    /// <summary>How many events the history holds now (for diagnostics).</summary>
    public int HistoryCount
    {
        get
        {
            lock (_lock)
            {
                return _fanOut.EventLog.HistoryCount;
            }
        }
    }

    /// <summary>Gets record <paramref name="id"/> as UTF-8 JSON; the bytes are immutable and may be kept.</summary>
    public bool TryGet(string id, out ReadOnlyMemory<byte> utf8Json)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_lock)
        {
            if (_records.TryGetValue(id, out var value))
            {
                utf8Json = value;
                return true;
            }
        }

        utf8Json = default;
        return false;
    }

    /// <summary>Reads the records and the cursor of that state together.</summary>
    public Snapshot GetSnapshot()
    {
        lock (_lock)
        {
            return new Snapshot(DocumentName, new Cursor(_epoch, _sequence), _records.CopyAll());
        }
    }

    /// <summary>
    /// Subscribes <paramref name="transport"/> to the collection's events, until it is disposed or either token is
    /// canceled: typically the request's abort token and the host's <c>ApplicationStopping</c>.
    /// </summary>
    /// <remarks>
    /// The subscription registers once on the request's token and disposes that registration when it ends; the host's
    /// stopping token, shared by every subscriber, is registered on once per collection. So a host serving many idle
    /// connections needs no linked token source, and no state machine of its own waiting to dispose a registration, per
    /// connection: it can return <see cref="Subscription.Completion"/> as the request's task.
    /// </remarks>
    /// <param name="transport">Where the events go.</param>
    /// <param name="cursor">
    /// The client's last cursor (<c>Last-Event-ID</c>), or <see langword="null"/>. A cursor still in the history yields
    /// exactly the events after it, then live ones. No cursor, or one that is too old, from another epoch, from the
    /// future or garbage, yields a reset first: <c>[{"op":"replace","path":"","value":{keyed document}}]</c>. A replay
    /// too large for the subscriber's queue is also replaced by a reset. Never throws for a bad cursor.
    /// </param>
    /// <param name="cancellationToken">Ends the subscription (normally, leaving the transport to the host) when canceled.</param>
    /// <param name="stoppingToken">
    /// The host is stopping: ends it with <see cref="CloseReason.ShuttingDown"/>, which the transport is closed with, so
    /// the client is told to reconnect (an SSE <c>event: close</c>) within the host's shutdown timeout.
    /// </param>
    /// <returns>The running subscription; dispose it to end it.</returns>
    /// <exception cref="ObjectDisposedException">The collection was disposed.</exception>
    /// <exception cref="SubscriberLimitException">The collection or the process admits no more subscribers; nothing was subscribed.</exception>
    public Subscription Subscribe(ITransport transport, string? cursor = null, CancellationToken cancellationToken = default, CancellationToken stoppingToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        var framer = transport.Framer ?? throw new ArgumentException("The transport has no framer.", nameof(transport));
        var parsed = Cursor.TryParse(cursor, out var from);
        var subscription = new Subscription(this, transport);
        Subscription.SourceReplay? sourceReplay;
        using var activity = RocketActivities.Source.StartActivity(RocketActivities.SubscribeName);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_subscribers.Admit() is { } refusal)
            {
                Metrics?.Refused(MetricsName, transport.Descriptor.Name, "refused");
                throw new SubscriberLimitException(refusal);
            }

            subscription.EventLog = _fanOut.EventLog;
            sourceReplay = _replay.Start(subscription, framer, parsed ? from : null, new Cursor(_epoch, _sequence), HistorySource);
            _subscribers.Add(subscription);

            // Counted under the lock, before anything can end the subscription, so the up-down counter never dips below.
            Metrics?.Started(MetricsName, transport.Descriptor.Name, subscription.StartedWithReset, _sequence - subscription.StartCursor.Sequence);
            if (_subscribers.ShareStopping(subscription, stoppingToken))
            {
                stoppingToken = CancellationToken.None;
            }
        }

        if (activity is not null)
        {
            activity.SetTag(RocketMetrics.CollectionTag, Name);
            activity.SetTag(RocketMetrics.TransportTag, transport.Descriptor.Name);
            activity.SetTag(RocketMetrics.StartTag, subscription.StartedWithReset ? "reset" : "replay");
            activity.SetTag("rocket.cursor", subscription.StartCursor.ToString());
        }

        subscription.Start(cancellationToken, stoppingToken, sourceReplay);
        return subscription;
    }

    /// <summary>Ends every subscription with <see cref="CloseReason.ShuttingDown"/>; later calls throw.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _subscribers.EndAll(CloseReason.ShuttingDown);
            _encoder.Dispose();
        }

        _subscribers.Dispose();
    }

    // The events subscribers read their pending frames from.
    internal FanOutLog EventLog => _fanOut.EventLog;

    // A subscription's limits and settings, read from here rather than copied into each (a few bytes per idle subscriber).
    internal int QueueMaxEvents => _queueMaxEvents;

    internal long QueueMaxBytes => _queueMaxBytes;

    internal TimeSpan CloseTimeout => _closeTimeout;

    internal ILogger Logger => _logger;

    // Why a subscriber that fell too far behind is closed.
    internal CloseReason SlowConsumerReason => _slowConsumer;

    internal void Unregister(Subscription subscription) => _subscribers.Unregister(subscription);

    // Under the lock, after Check: nothing here can fail on account of the changes, so state and event stay in step.
    // Both writers of the collection come here: its own (Apply, Patch) and a source (ApplyCommitted). Either way the
    // event goes to the fan-out the same way: encoded once, numbered, and not knowing who committed it.
    private Cursor Publish(ChangeSet changes)
    {
        _encoder.EncodeAndApply(changes);
        if (_encoder.PatchIsEmpty)
        {
            // "[]": only Diff-encoded updates to equal values (member order or spacing aside) get here. Nothing a client
            // holds would change, so no event is published and the cursor stays; the records keep the new bytes.
            return new Cursor(_epoch, _sequence);
        }

        // The event borrows its patch from the encoder's scratch buffer until the fan-out has framed it.
        var liveEvent = new LiveEvent(Name, new Cursor(_epoch, ++_sequence), _encoder.Patch);
        _fanOut.Publish(liveEvent);
        return liveEvent.Cursor;
    }
}
