using System;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Core.Tests.Live;

/// <summary>Subscriber limits per collection and per process: refused at subscribe with nothing subscribed, and freed places admit again.</summary>
public sealed class AdmissionTests
{
    [Fact]
    public async Task Subscribe_PastTheCollectionLimit_RefusedUntilAPlaceIsFree()
    {
        using var collection = new LiveCollection("messages", new LiveCollectionOptions { MaxSubscribers = 2 });
        var first = collection.Subscribe(new InMemoryTransport());
        using var second = collection.Subscribe(new InMemoryTransport());
        Assert.False(collection.CanSubscribe);

        Assert.Throws<SubscriberLimitException>(() => collection.Subscribe(new InMemoryTransport()));
        Assert.Equal(2, collection.SubscriberCount);

        await first.DisposeAsync();
        Assert.True(collection.CanSubscribe);
        using var third = collection.Subscribe(new InMemoryTransport());
        Assert.Equal(2, collection.SubscriberCount);
    }

    [Fact]
    public async Task Subscribe_PastTheProcessLimit_RefusedOnAnyCollectionUntilAPlaceIsFree()
    {
        var services = new ServiceCollection();
        services.AddRocket().AddCollection("a").AddCollection("b");
        services.Configure<RocketOptions>(static o => o.MaxSubscribers = 2);
        await using var provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<CollectionRegistry>();
        var a = registry.GetCollection("a");
        var b = registry.GetCollection("b");

        var one = a.Subscribe(new InMemoryTransport());
        using var two = b.Subscribe(new InMemoryTransport());

        Assert.False(a.CanSubscribe);
        Assert.Throws<SubscriberLimitException>(() => b.Subscribe(new InMemoryTransport()));
        one.Dispose();
        using var three = b.Subscribe(new InMemoryTransport());
        Assert.Equal(2, b.SubscriberCount);
    }

    [Fact]
    public async Task SlowConsumerClosed_GivesItsPlaceBack()
    {
        using var collection = new LiveCollection("messages", new LiveCollectionOptions { MaxSubscribers = 1, SubscriberQueueMaxEvents = 1 });
        var stalled = new InMemoryTransport();
        stalled.Stall();
        var subscription = collection.Subscribe(stalled);
        for (var i = 0; i < 4; i++)
        {
            collection.Create(i.ToString(System.Globalization.CultureInfo.InvariantCulture), "{}"u8);
        }

        await LiveTest.WaitUntilAsync(() => collection.SubscriberCount == 0);

        Assert.True(collection.CanSubscribe);
        Assert.Equal(CloseStatus.SlowConsumer, subscription.CloseReason?.Status);
        stalled.Resume();
    }
}
