using System;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Core.Tests.Live;

public class RocketServiceCollectionExtensionsTests
{
    [Fact]
    public async Task AddRocket_AddCollection_PublisherReachesSubscribers()
    {
        var services = new ServiceCollection();
        services.AddRocket()
            .AddCollection("messages", static o => o.HistoryMaxEvents = 10)
            .AddCollection("users");
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var registry = provider.GetRequiredService<CollectionRegistry>();
        var publisher = provider.GetRequiredService<IRocketPublisher>();
        var messages = registry.GetCollection("messages");
        var transport = new InMemoryTransport();
        using var subscription = messages.Subscribe(transport, messages.Cursor.ToString());

        var cursor = await publisher.PublishAsync("messages", ChangeSet.Create(RecordChange.Create("1", """{"text":"hi"}""")));

        var events = await LiveTest.WaitForEventsAsync(transport, 1);
        Assert.Equal(cursor, events[0].Cursor);
        Assert.Equal(2, registry.Collections.Count);
        Assert.True(registry.TryGetCollection("users", out _));
        Assert.False(registry.TryGetCollection("nope", out _));
    }

    [Fact]
    public async Task AddCollection_OptionsApplyPerName()
    {
        var services = new ServiceCollection();
        services.AddRocket().AddCollection("a", static o => o.HistoryMaxEvents = 1).AddCollection("b");
        await using var provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<CollectionRegistry>();

        for (var i = 0; i < 3; i++)
        {
            var id = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            registry.GetCollection("a").Create(id, "1"u8);
            registry.GetCollection("b").Create(id, "1"u8);
        }

        Assert.Equal(1, registry.GetCollection("a").HistoryCount);
        Assert.Equal(3, registry.GetCollection("b").HistoryCount);
    }

    [Fact]
    public async Task Publisher_UnknownCollectionOrRefusedChange_Throws()
    {
        var services = new ServiceCollection();
        services.AddRocket().AddCollection("messages");
        await using var provider = services.BuildServiceProvider();
        var publisher = provider.GetRequiredService<IRocketPublisher>();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await publisher.PublishAsync("nope", ChangeSet.Create(RecordChange.Destroy("1"))));
        var error = await Assert.ThrowsAsync<ChangeRefusedException>(async () => await publisher.PublishAsync("messages", ChangeSet.Create(RecordChange.Destroy("1"))));
        Assert.Equal(ChangeRefusal.RecordNotFound, error.Reason);
    }

    [Fact]
    public async Task AddCollection_SameNameTwice_Throws()
    {
        var services = new ServiceCollection();
        services.AddRocket().AddCollection("messages").AddCollection("messages");
        await using var provider = services.BuildServiceProvider();
        Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<CollectionRegistry>());
    }

    [Fact]
    public async Task Dispose_ContainerEndsSubscriptions()
    {
        var services = new ServiceCollection();
        services.AddRocket().AddCollection("messages");
        var provider = services.BuildServiceProvider();
        var transport = new InMemoryTransport();
        provider.GetRequiredService<CollectionRegistry>().GetCollection("messages").Subscribe(transport);

        await provider.DisposeAsync();

        Assert.Equal(CloseStatus.ShuttingDown, (await transport.Closed.WaitAsync(LiveTest.Timeout)).Status);
    }
}
