using System;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Rocket.Redis;

/// <summary>Puts Rocket's collections in Redis.</summary>
public static class RocketRedisBuilderExtensions
{
    /// <summary>
    /// Makes every registered collection live in Redis at <paramref name="configuration"/> (a StackExchange.Redis
    /// configuration string such as <c>127.0.0.1:6379</c>); see <see cref="AddRedis(IRocketBuilder, Action{RedisRocketOptions})"/>.
    /// </summary>
    public static IRocketBuilder AddRedis(this IRocketBuilder builder, string configuration)
    {
        ArgumentException.ThrowIfNullOrEmpty(configuration);
        return builder.AddRedis(options => options.Configuration = configuration);
    }

    /// <summary>
    /// Makes every registered collection live in Redis: its records, sequence and event log are there, every write (the
    /// REST scaffold's, <see cref="IRocketPublisher"/>'s) commits there atomically, and this node's collection becomes a
    /// replica fed from it, so several nodes on one Redis serve the same state with the same cursors. The replicas are
    /// loaded before the host serves requests; the host fails to start when Redis cannot be reached.
    /// </summary>
    public static IRocketBuilder AddRedis(this IRocketBuilder builder, Action<RedisRocketOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        RedisRocketOptionsValidator.Register(builder.Services);
        builder.Services.TryAddSingleton<RedisReplicaService>();
        builder.Services.AddHostedService(static provider => provider.GetRequiredService<RedisReplicaService>());
        builder.Services.Replace(ServiceDescriptor.Singleton<IRocketPublisher, RedisRocketPublisher>());
        return builder;
    }
}
