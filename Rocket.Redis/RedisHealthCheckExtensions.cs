using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Rocket.Redis;

/// <summary>A health check for Rocket's Redis connection, for <c>services.AddHealthChecks()</c>.</summary>
public static class RedisHealthCheckExtensions
{
    /// <summary>The name <see cref="AddRocketRedis"/> registers its check under by default.</summary>
    public const string DefaultName = "rocket-redis";

    /// <summary>
    /// Adds a check that is healthy while Rocket's Redis connection is up and answers a <c>PING</c> within
    /// <paramref name="timeout"/> (default 2 s); unhealthy (or <paramref name="failureStatus"/>) before the replicas are
    /// loaded, while the connection is down, or when the ping fails. Writes answer 503 in that state; streams stay open.
    /// </summary>
    public static IHealthChecksBuilder AddRocketRedis(this IHealthChecksBuilder builder, string name = DefaultName, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var limit = timeout ?? TimeSpan.FromSeconds(2);
        return builder.Add(new HealthCheckRegistration(name, provider => new RedisHealthCheck(provider.GetRequiredService<RedisReplicaService>(), limit), failureStatus, tags));
    }
}

internal sealed class RedisHealthCheck(RedisReplicaService service, TimeSpan timeout) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (service.Connection is not { } connection)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Rocket has not connected to Redis yet");
        }

        if (!connection.IsConnected)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Rocket's Redis connection is down");
        }

        try
        {
            var latency = await connection.GetDatabase().PingAsync().WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:0.#} ms");
        }
        catch (Exception e) when (e is TimeoutException or StackExchange.Redis.RedisException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Redis did not answer a PING: " + e.Message, e);
        }
    }
}
