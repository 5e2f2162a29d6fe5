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

    /// <summary>
    /// How many events each collection's log in Redis keeps (at least; trimmed with <c>MAXLEN ~</c>). Default 10,000.
    /// A cursor older than a node's in-memory history (<c>LiveCollectionOptions.HistoryMaxEvents</c>) but still in this
    /// log is replayed from Redis, in pages, on any node; past it a client gets a reset. Never less than the history:
    /// the larger of the two is used. Give every node the same value.
    /// </summary>
    public int LogMaxEvents { get; set; } = 10_000;

    /// <summary>
    /// How long Redis keeps a collection family instance's keys after its last write or its last position check by a
    /// node that holds it in memory. Default 7 days; <see langword="null"/> keeps them until deleted. Once expired, the
    /// instance's next use starts it empty under a new epoch (clients reset). Registered collections never expire.
    /// </summary>
    public TimeSpan? FamilyInstanceTimeToLive { get; set; } = TimeSpan.FromDays(7);
}
