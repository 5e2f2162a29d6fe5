using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rocket.Redis;

namespace Rocket.Postgres;

/// <summary>
/// Starts every table-backed collection before the server takes requests (the host fails to start, with the reason,
/// when a table cannot be one: missing, no primary key, no logical replication), and stops them with the host.
/// </summary>
/// <remarks>
/// With <c>AddRedis</c> the collections live in Redis, whose replicas are loaded by Rocket.Redis's hosted service: the
/// tables are checked in <see cref="StartAsync"/>, and following them (the lease, the feed) starts in
/// <see cref="StartedAsync"/>, once every hosted service has started, whatever order they were registered in.
/// </remarks>
internal sealed class PostgresSourceService(
    CollectionRegistry registry,
    IEnumerable<PostgresCollectionRegistration> registrations,
    IOptionsMonitor<PostgresCollectionOptions> options,
    ILoggerFactory? loggerFactory = null,
    RedisReplicaService? redis = null) : IHostedLifecycleService, IAsyncDisposable
{
    private readonly Dictionary<string, PostgresCollectionSource> _sources = new(StringComparer.Ordinal);
    private int _disposed;

    public bool TryGetSource(string collection, out PostgresCollectionSource source)
    {
        lock (_sources)
        {
            return _sources.TryGetValue(collection, out source!);
        }
    }

    /// <summary>Whether <paramref name="collection"/> is fed by a table (registered, whether or not it has started).</summary>
    public bool IsPostgres(string collection) => registrations.Any(r => r.Name == collection);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<PostgresCollectionSource>();
        foreach (var registration in registrations.DistinctBy(r => r.Name))
        {
            var source = new PostgresCollectionSource(registry.GetCollection(registration.Name), options.Get(registration.Name), logger, redis);
            try
            {
                await source.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await source.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            lock (_sources)
            {
                _sources.Add(registration.Name, source);
            }
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        if (redis is null)
        {
            return;
        }

        foreach (var source in Sources())
        {
            await source.StartFollowingAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var source in Sources())
        {
            await source.StopAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Registered both as itself and as a hosted service: the container disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        foreach (var source in Sources())
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }
    }

    private PostgresCollectionSource[] Sources()
    {
        lock (_sources)
        {
            return [.. _sources.Values];
        }
    }
}
