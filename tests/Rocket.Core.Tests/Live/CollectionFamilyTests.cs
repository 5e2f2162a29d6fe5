using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Rocket.Diagnostics;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Core.Tests.Live;

/// <summary>A collection family without HTTP: templates, values, instances, capacity, eviction and its instruments.</summary>
public sealed class CollectionFamilyTests : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    public CollectionFamilyTests()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddRocket().AddCollectionFamily("rooms/{room}/messages", static o =>
        {
            o.MaxInstances = 2;
            o.IdleTimeout = TimeSpan.FromHours(1);
        });
        _provider = services.BuildServiceProvider();
    }

    public async ValueTask DisposeAsync() => await _provider.DisposeAsync();

    private CollectionFamily Family => _provider.GetRequiredService<CollectionRegistry>().Families.Single();

    private static Func<string, string?> Room(string? room) => key => key == "room" ? room : null;

    [Theory]
    [InlineData("rooms")]
    [InlineData("rooms/{id}/messages")]
    [InlineData("rooms/{a}/{a}")]
    [InlineData("rooms/x{a}/messages")]
    [InlineData("rooms//{a}")]
    public void BadTemplate_IsRefusedAtRegistration(string template)
    {
        var builder = new ServiceCollection().AddRocket();
        Assert.Throws<ArgumentException>(() => builder.AddCollectionFamily(template));
    }

    [Fact]
    public void Instances_NamedByTheirValues_DocumentMemberIsTheLastSegment()
    {
        Assert.Equal(CollectionFamilyLookup.Created, Family.GetOrCreate(Room("lobby"), out var lobby, out _));
        Assert.Equal(CollectionFamilyLookup.Found, Family.GetOrCreate(Room("lobby"), out var again, out _));
        Assert.Same(lobby, again);
        Assert.Equal("rooms/lobby/messages", lobby!.Name);
        Assert.Equal("messages", lobby.DocumentName);
        Assert.Equal("""{"messages":{}}""", System.Text.Encoding.UTF8.GetString(lobby.GetSnapshot().ToKeyedJson()));
        Assert.True(Family.TryMatch("rooms/lobby/messages", out var values));
        Assert.Equal("lobby", values["room"]);
        Assert.False(Family.TryMatch("rooms/lobby/other", out _));
        Assert.True(_provider.GetRequiredService<CollectionRegistry>().TryGetCollection("rooms/lobby/messages", out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("caf\u00e9")]
    public void InvalidValue_CreatesNothing(string? room)
    {
        Assert.Equal(CollectionFamilyLookup.InvalidValue, Family.GetOrCreate(Room(room), out var collection, out var problem));
        Assert.Null(collection);
        Assert.Contains("'room'", problem, StringComparison.Ordinal);
        Assert.Equal(0, Family.Count);
    }

    [Fact]
    public async Task Capacity_EvictsTheLeastRecentlyUsedIdle_RefusesWhenAllHaveSubscribers_Counted()
    {
        var meters = _provider.GetRequiredService<IMeterFactory>();
        using var instances = new MetricCollector<long>(meters, RocketTelemetry.MeterName, "rocket.family.instances");
        using var evictions = new MetricCollector<long>(meters, RocketTelemetry.MeterName, "rocket.family.evictions");
        using var refusals = new MetricCollector<long>(meters, RocketTelemetry.MeterName, "rocket.family.refusals");

        Family.GetOrCreate(Room("a"), out var a, out _);
        Family.GetOrCreate(Room("b"), out var b, out _);
        await using var subscriber = b!.Subscribe(new InMemoryTransport());
        Assert.Equal(CollectionFamilyLookup.Created, Family.GetOrCreate(Room("c"), out var c, out _));
        Assert.False(Family.TryGetInstance("rooms/a/messages", out _));
        Assert.Throws<ObjectDisposedException>(() => a!.Create("1", "{}"u8));

        await using var another = c!.Subscribe(new InMemoryTransport());
        Assert.Equal(CollectionFamilyLookup.Full, Family.GetOrCreate(Room("d"), out _, out var problem));
        Assert.Contains("all with subscribers", problem, StringComparison.Ordinal);

        Assert.Equal(2, instances.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal("capacity", Assert.Single(evictions.GetMeasurementSnapshot()).Tags["rocket.family.eviction.reason"]);
        Assert.Single(refusals.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task EvictIdle_DropsOnlyInstancesWithoutSubscribers_AndTheNextOneHasANewEpoch()
    {
        var services = new ServiceCollection();
        services.AddRocket().AddCollectionFamily("docs/{doc}", static o => o.IdleTimeout = TimeSpan.FromMilliseconds(1));
        await using var provider = services.BuildServiceProvider();
        var family = provider.GetRequiredService<CollectionRegistry>().Families.Single();
        family.GetOrCreate(key => "idle", out var idle, out _);
        var epoch = idle!.Epoch;
        await using var subscriber = await SubscribeToLiveInstanceAsync(family, "busy");

        await LiveTest.WaitUntilAsync(() => !family.TryGetInstance("docs/idle", out _));
        Assert.True(family.TryGetInstance("docs/busy", out _));
        family.GetOrCreate(key => "idle", out var next, out _);
        Assert.NotEqual(epoch, next!.Epoch);
    }

    // With a 1 ms idle timeout the sweep may evict an instance between its creation and its first subscriber, on a busy
    // machine: take it again until the subscription is on the instance the family holds.
    private static async Task<Subscription> SubscribeToLiveInstanceAsync(CollectionFamily family, string value)
    {
        while (true)
        {
            family.GetOrCreate(_ => value, out var instance, out _);
            Subscription subscription;
            try
            {
                subscription = instance!.Subscribe(new InMemoryTransport());
            }
            catch (ObjectDisposedException)
            {
                continue;
            }

            if (family.TryGetInstance(instance.Name, out var current) && ReferenceEquals(current, instance))
            {
                return subscription;
            }

            await subscription.DisposeAsync();
        }
    }
}
