using System;

namespace Rocket.Redis;

/// <summary>How Rocket reaches Redis. Configure with <c>AddRocket().AddRedis(...)</c>.</summary>
public sealed class RedisRocketOptions
{
    /// <summary>
    /// The StackExchange.Redis configuration string, for example <c>127.0.0.1:6379</c>. Ignored when the app registers
    /// its own <c>IConnectionMultiplexer</c>, which Rocket then shares.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>
    /// The prefix of every key and channel. Default <c>rocket</c>: collection <c>messages</c> lives under the hash tag
    /// <c>{rocket:messages}</c> (so a Redis Cluster keeps its keys in one slot) and publishes on <c>rocket:messages</c>.
    /// Two apps sharing one Redis give each its own prefix.
    /// </summary>
    public string KeyPrefix { get; set; } = "rocket";

    /// <summary>
    /// How often each node compares its replica's position with Redis's (one <c>HMGET</c> per collection). Default 2
    /// seconds: a pub/sub connection that is open but delivers nothing, a missed message or a flushed Redis is noticed
    /// within this, and the replica catches up from the log or reloads.
    /// </summary>
    public TimeSpan PositionCheckInterval { get; set; } = TimeSpan.FromSeconds(2);
}
