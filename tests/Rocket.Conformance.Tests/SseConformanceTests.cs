namespace Rocket.Conformance.Tests;

public sealed class SseConformanceTests : TransportConformanceTests
{
    protected override ITransportUnderTest Transport { get; } = new SseUnderTest();
}

public sealed class SseHeartbeatConformanceTests : HeartbeatConformanceTests
{
    protected override ITransportUnderTest Transport { get; } = new SseUnderTest();
}

public sealed class WebSocketConformanceTests : TransportConformanceTests
{
    protected override ITransportUnderTest Transport { get; } = new WebSocketUnderTest();
}
