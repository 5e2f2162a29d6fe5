using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Rocket.Diagnostics;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Core.Tests.Live;

/// <summary>Every instrument of the <c>Rocket</c> meter and every activity moves as docs/observability.md says.</summary>
public sealed class TelemetryTests : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly IMeterFactory _meters;
    private readonly LiveCollection _collection;

    public TelemetryTests()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddRocket().AddCollection("messages", static o => o.SubscriberQueueMaxEvents = 2);
        _provider = services.BuildServiceProvider();
        _meters = _provider.GetRequiredService<IMeterFactory>();
        _collection = _provider.GetRequiredService<CollectionRegistry>().GetCollection("messages");
    }

    public async ValueTask DisposeAsync() => await _provider.DisposeAsync();

    private MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(_meters, RocketTelemetry.MeterName, instrument);

    private static string? Tag(CollectedMeasurement<long> measurement, string name) =>
        measurement.Tags.TryGetValue(name, out var value) ? value as string : null;

    [Fact]
    public async Task SubscriberJoinsAndLeaves_ActiveGoesUpThenDown_StartIsAReset_CloseIsClientGone()
    {
        using var active = Collect<long>("rocket.subscription.active");
        using var starts = Collect<long>("rocket.subscription.starts");
        using var closes = Collect<long>("rocket.subscription.closes");

        var transport = new InMemoryTransport();
        var subscription = _collection.Subscribe(transport);
        Assert.Equal(1, active.LastMeasurement!.Value);
        Assert.Equal("messages", Tag(active.LastMeasurement, "rocket.collection"));
        Assert.Equal(transport.Descriptor.Name, Tag(active.LastMeasurement, "rocket.transport"));
        Assert.Equal("reset", Tag(starts.LastMeasurement!, "rocket.subscription.start"));

        await subscription.DisposeAsync();
        Assert.Equal([1L, -1L], active.GetMeasurementSnapshot().Select(static m => m.Value));
        Assert.Equal("client_gone", Tag(closes.LastMeasurement!, "rocket.close.reason"));
        Assert.Single(closes.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Resume_CountsAReplayStart_AndTheEventsItReplayed()
    {
        using var starts = Collect<long>("rocket.subscription.starts");
        using var replayed = Collect<long>("rocket.subscription.replayed_events");
        var cursor = _collection.Cursor;
        _collection.Create("a", "{}"u8);
        _collection.Create("b", "{}"u8);

        // Two missed events fit this collection's queue of two: a replay (three would be a reset).
        await using var subscription = _collection.Subscribe(new InMemoryTransport(), cursor.ToString());

        Assert.Equal("replay", Tag(starts.LastMeasurement!, "rocket.subscription.start"));
        Assert.Equal(2, replayed.LastMeasurement!.Value);
    }

    [Fact]
    public async Task Publish_CountsTheEvent_TimesTheFanOut_AndTheTransportsCountWhatTheyWereHanded()
    {
        using var published = Collect<long>("rocket.published_events");
        using var fanOut = Collect<double>("rocket.fanout.duration");
        using var sentEvents = Collect<long>("rocket.sent_events");
        using var sentBytes = Collect<long>("rocket.sent_bytes");
        using var lag = Collect<double>("rocket.delivery.lag");
        var transport = new InMemoryTransport();
        await using var subscription = _collection.Subscribe(transport);
        await transport.WaitForFramesAsync(1).WaitAsync(LiveTest.Timeout);

        // Sixteen events, one at a time: the lag is sampled at every 16th event's write.
        for (var i = 1; i <= 16; i++)
        {
            _collection.Create(i.ToString(System.Globalization.CultureInfo.InvariantCulture), "{\"text\":\"hi\"}"u8);
            await transport.WaitForFramesAsync(i + 1).WaitAsync(LiveTest.Timeout);
        }

        await lag.WaitForMeasurementsAsync(1).WaitAsync(LiveTest.Timeout);

        // The sent totals are observable counters: a listener reads the running totals when it collects.
        long Observed(MetricCollector<long> collector)
        {
            collector.RecordObservableInstruments();
            return collector.LastMeasurement!.Value;
        }

        await LiveTest.WaitUntilAsync(() => Observed(sentEvents) == 17);

        Assert.Equal(16, published.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(16, fanOut.GetMeasurementSnapshot().Count);
        Assert.True(fanOut.LastMeasurement!.Value >= 0);
        Assert.Equal(17, Observed(sentEvents)); // the reset, then the events
        Assert.Equal(transport.Frames.Sum(static f => (long)f.Length), Observed(sentBytes));
        Assert.Equal("messages", Tag(sentBytes.LastMeasurement!, "rocket.collection"));
        Assert.Equal(transport.Descriptor.Name, Tag(sentBytes.LastMeasurement!, "rocket.transport"));
        Assert.True(lag.LastMeasurement!.Value >= 0);
    }

    [Fact]
    public async Task SentTotals_KeepWhatEndedSubscriptionsWereHanded_AndAddTheLiveOnes()
    {
        using var sentEvents = Collect<long>("rocket.sent_events");
        long Observed()
        {
            sentEvents.RecordObservableInstruments();
            return sentEvents.LastMeasurement?.Value ?? 0;
        }

        var first = new InMemoryTransport();
        var subscription = _collection.Subscribe(first);
        await first.WaitForFramesAsync(1).WaitAsync(LiveTest.Timeout);
        _collection.Create("a", "{}"u8);
        await first.WaitForFramesAsync(2).WaitAsync(LiveTest.Timeout);
        await LiveTest.WaitUntilAsync(() => Observed() == 2);

        // The first subscriber leaves: what it was handed stays counted, and a second one adds its own.
        await subscription.DisposeAsync();
        var second = new InMemoryTransport();
        await using var other = _collection.Subscribe(second);
        await second.WaitForFramesAsync(1).WaitAsync(LiveTest.Timeout);
        await LiveTest.WaitUntilAsync(() => Observed() == 3);
        Assert.Equal(3, Observed());
    }

    [Fact]
    public async Task SlowConsumer_IsCountedClosedWithItsReason()
    {
        using var active = Collect<long>("rocket.subscription.active");
        using var closes = Collect<long>("rocket.subscription.closes");
        var stalled = new InMemoryTransport();
        stalled.Stall();
        _ = _collection.Subscribe(stalled);
        for (var i = 0; i < 5; i++)
        {
            _collection.Create(i.ToString(System.Globalization.CultureInfo.InvariantCulture), "{}"u8);
        }

        await LiveTest.WaitUntilAsync(() => _collection.SubscriberCount == 0);
        stalled.Resume();
        Assert.Equal("slow_consumer", Tag(closes.LastMeasurement!, "rocket.close.reason"));
        Assert.Equal(0, active.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task RefusedSubscriber_IsCountedAsRefused_NeverActive()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddRocket().AddCollection("full", static o => o.MaxSubscribers = 0);
        await using var provider = services.BuildServiceProvider();
        using var closes = new MetricCollector<long>(provider.GetRequiredService<IMeterFactory>(), RocketTelemetry.MeterName, "rocket.subscription.closes");
        using var active = new MetricCollector<long>(provider.GetRequiredService<IMeterFactory>(), RocketTelemetry.MeterName, "rocket.subscription.active");

        Assert.Throws<SubscriberLimitException>(() => provider.GetRequiredService<CollectionRegistry>().GetCollection("full").Subscribe(new InMemoryTransport()));

        Assert.Equal("refused", Tag(closes.LastMeasurement!, "rocket.close.reason"));
        Assert.Empty(active.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Dispose_ShutsSubscribersDown_CountedAsShuttingDown()
    {
        using var closes = Collect<long>("rocket.subscription.closes");
        var subscription = _collection.Subscribe(new InMemoryTransport());
        _collection.Dispose();
        await subscription.Completion.WaitAsync(LiveTest.Timeout);
        Assert.Equal("shutting_down", Tag(closes.LastMeasurement!, "rocket.close.reason"));
    }

    [Fact]
    public async Task Activities_PublishIsAChildOfTheWritersActivity_SubscribeIsRecorded()
    {
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == RocketTelemetry.ActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (stopped)
                {
                    stopped.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var parentSource = new ActivitySource("Rocket.Tests.Parent");
        using var parentListener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == "Rocket.Tests.Parent",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(parentListener);

        // Listeners are process-wide and other tests publish too: only this test's trace is looked at.
        Cursor cursor;
        string parentId;
        ActivityTraceId traceId;
        Subscription subscription;
        using (var parent = parentSource.StartActivity("POST /messages"))
        {
            parentId = parent!.SpanId.ToString();
            traceId = parent.TraceId;
            subscription = _collection.Subscribe(new InMemoryTransport());
            cursor = _collection.Create("a", "{}"u8);
        }

        await subscription.DisposeAsync();
        Activity[] ours;
        lock (stopped)
        {
            ours = stopped.Where(a => a.Source.Name == RocketTelemetry.ActivitySourceName && a.TraceId == traceId).ToArray();
        }

        var subscribe = Assert.Single(ours, static a => a.OperationName == "rocket.subscribe");
        Assert.Equal("messages", subscribe.GetTagItem("rocket.collection"));
        Assert.Equal("reset", subscribe.GetTagItem("rocket.subscription.start"));
        var publish = Assert.Single(ours, static a => a.OperationName == "rocket.publish");
        Assert.Equal(parentId, publish.ParentSpanId.ToString());
        Assert.Equal(cursor.ToString(), publish.GetTagItem("rocket.cursor"));
        Assert.Equal(ActivityKind.Producer, publish.Kind);
    }
}
