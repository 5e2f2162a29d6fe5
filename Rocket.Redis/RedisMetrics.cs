using System.Collections.Generic;
using System.Diagnostics.Metrics;
using Rocket.Diagnostics;

namespace Rocket.Redis;

// The Redis instruments, on the same "Rocket" meter as the core's (IMeterFactory hands out one meter per name).
internal sealed class RedisMetrics
{
    private readonly Counter<long> _loads;
    private readonly Counter<long> _caughtUp;

    public RedisMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(RocketTelemetry.MeterName);
        _loads = meter.CreateCounter<long>("rocket.redis.loads", "{load}", "Replicas loaded whole from Redis, by reason: start, epoch_changed, gap, diverged, behind, failover.");
        _caughtUp = meter.CreateCounter<long>("rocket.redis.caught_up_events", "{event}", "Events a replica read from the Redis log because it missed their pub/sub message.");
    }

    public void Loaded(string collection, string reason) =>
        _loads.Add(1, new KeyValuePair<string, object?>("rocket.collection", collection), new KeyValuePair<string, object?>("rocket.redis.load.reason", reason));

    public void CaughtUp(string collection) => _caughtUp.Add(1, new KeyValuePair<string, object?>("rocket.collection", collection));
}
