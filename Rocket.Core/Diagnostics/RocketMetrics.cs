using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Rocket.Transports;

namespace Rocket.Diagnostics;

// Rocket's instruments, made once per IMeterFactory (one per container, so tests and apps in one process stay apart).
// Every attribute set is bounded: a collection's or family's name, a transport's name, a start mode, a close reason;
// never a record id, a cursor or a user. Recording is skipped when nothing listens (the instruments' Enabled), so an
// app that exports nothing pays a field read per batch.
internal sealed class RocketMetrics
{
    internal const string CollectionTag = "rocket.collection";
    internal const string TransportTag = "rocket.transport";
    internal const string StartTag = "rocket.subscription.start";
    internal const string ReasonTag = "rocket.close.reason";

    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _starts;
    private readonly Counter<long> _closes;
    private readonly Histogram<long> _replayed;
    private readonly Counter<long> _published;
    private readonly ObservableCounter<long> _sentEvents;
    private readonly ObservableCounter<long> _sentBytes;
    private readonly ConcurrentDictionary<(string Collection, string Transport), SentTotals> _sent = new();
    private readonly Histogram<double> _fanOut;
    private readonly Histogram<double> _lag;
    private readonly UpDownCounter<long> _familyInstances;
    private readonly Counter<long> _familyEvictions;
    private readonly Counter<long> _familyRefusals;

    public RocketMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(RocketTelemetry.MeterName);
        _active = Meter.CreateUpDownCounter<long>("rocket.subscription.active", "{subscription}", "Subscriptions open now.");
        _starts = Meter.CreateCounter<long>("rocket.subscription.starts", "{subscription}", "Subscriptions started, by how they started: replay (from the client's cursor) or reset.");
        _closes = Meter.CreateCounter<long>("rocket.subscription.closes", "{subscription}", "Subscriptions ended or refused, by reason.");
        _replayed = Meter.CreateHistogram<long>("rocket.subscription.replayed_events", "{event}", "Events replayed to a subscription that resumed from its cursor.");
        _published = Meter.CreateCounter<long>("rocket.published_events", "{event}", "Events published by collections.");
        _sentEvents = Meter.CreateObservableCounter("rocket.sent_events", () => ObserveSent(bytes: false), "{event}", "Events handed to transports, per subscriber (one event to 1,000 subscribers counts 1,000).");
        _sentBytes = Meter.CreateObservableCounter("rocket.sent_bytes", () => ObserveSent(bytes: true), "By", "Framed bytes handed to transports.");
        _fanOut = Meter.CreateHistogram<double>("rocket.fanout.duration", "s", "Time to queue one event to every subscriber of its collection.");
        _familyInstances = Meter.CreateUpDownCounter<long>("rocket.family.instances", "{collection}", "Live instances of a collection family.");
        _familyEvictions = Meter.CreateCounter<long>("rocket.family.evictions", "{collection}", "Family instances evicted from memory, by reason: idle, capacity, or failed (a load from the family's source failed).");
        _familyRefusals = Meter.CreateCounter<long>("rocket.family.refusals", "{request}", "Requests refused because a family had as many instances as it admits, all with subscribers.");
        _lag = Meter.CreateHistogram<double>("rocket.delivery.lag", "s", "Time from an event's publication to the end of the transport write that carried it: writes that start at every 16th event, sampled.");
    }

    public Meter Meter { get; }

    internal const string FamilyTag = "rocket.family";

    public bool TimesFanOut => _fanOut.Enabled;

    public bool TimesDelivery => _lag.Enabled;

    public void Started(string collection, string transport, bool reset, long replayed)
    {
        var tags = new TagList { { CollectionTag, collection }, { TransportTag, transport } };
        _active.Add(1, tags);
        tags.Add(StartTag, reset ? "reset" : "replay");
        _starts.Add(1, tags);
        if (!reset && _replayed.Enabled)
        {
            _replayed.Record(replayed, new KeyValuePair<string, object?>(CollectionTag, collection), new KeyValuePair<string, object?>(TransportTag, transport));
        }
    }

    public void Ended(string collection, string transport, CloseStatus status)
    {
        var tags = new TagList { { CollectionTag, collection }, { TransportTag, transport } };
        _active.Add(-1, tags);
        tags.Add(ReasonTag, ReasonName(status));
        _closes.Add(1, tags);
    }

    public void Refused(string collection, string transport, string reason) =>
        _closes.Add(1, new KeyValuePair<string, object?>(CollectionTag, collection), new KeyValuePair<string, object?>(TransportTag, transport), new KeyValuePair<string, object?>(ReasonTag, reason));

    public void Published(string collection) => _published.Add(1, new KeyValuePair<string, object?>(CollectionTag, collection));

    /// <summary>Whether anything listens to the sent events or bytes, so a write has totals to add to.</summary>
    public bool CountsSent => _sentEvents.Enabled || _sentBytes.Enabled;

    // The running totals of one collection's transport, read when a listener collects. Per write, a counter's Add with
    // its tag list and the listener's callback cost about as much as writing a small event itself; the totals cost two
    // additions to the subscription's own fields.
    public SentTotals SentTotalsFor(string collection, string transport) =>
        _sent.GetOrAdd((collection, transport), static _ => new SentTotals());

    private IEnumerable<Measurement<long>> ObserveSent(bool bytes)
    {
        foreach (var ((collection, transport), totals) in _sent)
        {
            var (sentEvents, sentBytes) = totals.Read();
            yield return new Measurement<long>(
                bytes ? sentBytes : sentEvents,
                new KeyValuePair<string, object?>(CollectionTag, collection),
                new KeyValuePair<string, object?>(TransportTag, transport));
        }
    }

    public void FannedOut(string collection, long startTimestamp) =>
        _fanOut.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>(CollectionTag, collection));

    public void Delivered(string collection, string transport, long publishedTimestamp) =>
        _lag.Record(Stopwatch.GetElapsedTime(publishedTimestamp).TotalSeconds, new KeyValuePair<string, object?>(CollectionTag, collection), new KeyValuePair<string, object?>(TransportTag, transport));

    public void FamilyInstanceAdded(string family) => _familyInstances.Add(1, new KeyValuePair<string, object?>(FamilyTag, family));

    public void FamilyInstanceEvicted(string family, string reason)
    {
        _familyInstances.Add(-1, new KeyValuePair<string, object?>(FamilyTag, family));
        _familyEvictions.Add(1, new KeyValuePair<string, object?>(FamilyTag, family), new KeyValuePair<string, object?>("rocket.family.eviction.reason", reason));
    }

    public void FamilyFull(string family) => _familyRefusals.Add(1, new KeyValuePair<string, object?>(FamilyTag, family));

    // The documented values of rocket.close.reason.
    internal static string ReasonName(CloseStatus status) => status switch
    {
        CloseStatus.Normal => "client_gone",
        CloseStatus.SlowConsumer => "slow_consumer",
        CloseStatus.ShuttingDown => "shutting_down",
        CloseStatus.TransportFailed => "transport_failed",
        CloseStatus.Expired => "expired",
        _ => "other",
    };
}

/// <summary>What the subscribers of one collection have been handed over one transport (see <see cref="RocketMetrics.SentTotalsFor"/>).</summary>
/// <remarks>
/// Each subscription counts its own writes in two plain fields (its write loop is their only writer), joins these totals
/// at its first counted write and leaves them when its loop ends, handing over what it counted. A listener's collection
/// sums the subscriptions that have left and those still here, under the lock that joining and leaving take, so the
/// total never goes back. A write pays two additions to fields of its own: no interlocked operation, no cache line
/// shared with the subscribers writing on the other cores.
/// </remarks>
internal sealed class SentTotals
{
    private readonly Lock _gate = new();
    private readonly HashSet<Rocket.Live.Subscription> _live = new(ReferenceEqualityComparer.Instance);
    private long _leftEvents;
    private long _leftBytes;

    public void Join(Rocket.Live.Subscription subscription)
    {
        lock (_gate)
        {
            _live.Add(subscription);
        }
    }

    public void Leave(Rocket.Live.Subscription subscription)
    {
        lock (_gate)
        {
            if (_live.Remove(subscription))
            {
                _leftEvents += Volatile.Read(ref subscription.SentEvents);
                _leftBytes += Volatile.Read(ref subscription.SentBytes);
            }
        }
    }

    public (long Events, long Bytes) Read()
    {
        lock (_gate)
        {
            var events = _leftEvents;
            var bytes = _leftBytes;
            foreach (var subscription in _live)
            {
                events += Volatile.Read(ref subscription.SentEvents);
                bytes += Volatile.Read(ref subscription.SentBytes);
            }

            return (events, bytes);
        }
    }
}
