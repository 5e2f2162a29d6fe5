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
