using System.Threading.Tasks;
using Rocket.Testing;

namespace Rocket.Conformance.Tests;

// The one suite, run against each transport. Heartbeats and back-pressure apply where a client can see and cause them.
public sealed class SseConformanceTests : BackpressureConformanceTests
{
    protected override ITransportUnderTest Transport { get; } = new SseUnderTest();
}

public sealed class SseHeartbeatConformanceTests : HeartbeatConformanceTests
{
    protected override ITransportUnderTest Transport { get; } = new SseUnderTest();
}

public sealed class WebSocketConformanceTests : BackpressureConformanceTests
{
    protected override ITransportUnderTest Transport { get; } = new WebSocketUnderTest();
}

public sealed class SignalRJsonConformanceTests : TransportConformanceTests
{
    protected override ITransportUnderTest Transport { get; } = new SignalRUnderTest(messagePack: false);
}

public sealed class SignalRMessagePackConformanceTests : TransportConformanceTests
{
    protected override ITransportUnderTest Transport { get; } = new SignalRUnderTest(messagePack: true);
}

// The same suite against two nodes on one Redis: every write made on one node, every client on the other.
[CollectionDefinition(Name)]
public sealed class RedisDeployment : ICollectionFixture<RedisFixture>
{
    public const string Name = "two nodes on Redis";
}

public sealed class RedisFixture : IAsyncLifetime
{
    public RedisProcess Redis { get; private set; } = null!;

    public async Task InitializeAsync() => Redis = await RedisProcess.StartAsync();

    public async Task DisposeAsync() => await Redis.DisposeAsync();
}

[Collection(RedisDeployment.Name)]
public sealed class SseTwoNodeConformanceTests(RedisFixture fixture) : BackpressureConformanceTests
{
    protected override ITransportUnderTest Transport { get; } = new SseUnderTest();

    protected override RedisProcess? Redis => fixture.Redis;
}

[Collection(RedisDeployment.Name)]
public sealed class WebSocketTwoNodeConformanceTests(RedisFixture fixture) : BackpressureConformanceTests
{
    protected override ITransportUnderTest Transport { get; } = new WebSocketUnderTest();

    protected override RedisProcess? Redis => fixture.Redis;
}

[Collection(RedisDeployment.Name)]
public sealed class SignalRTwoNodeConformanceTests(RedisFixture fixture) : TransportConformanceTests
{
    protected override ITransportUnderTest Transport { get; } = new SignalRUnderTest(messagePack: false);

    protected override RedisProcess? Redis => fixture.Redis;
}
