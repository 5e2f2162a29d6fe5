using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Rocket.Postgres;

/// <summary>
/// Starts every table-backed collection before the server takes requests (the host fails to start, with the reason,
/// when a table cannot be one: missing, no primary key, no logical replication), and stops them with the host.
/// </summary>
internal sealed class PostgresSourceService(
    CollectionRegistry registry,
    IEnumerable<PostgresCollectionRegistration> registrations,
    IOptionsMonitor<PostgresCollectionOptions> options,
    IRocketPublisher publisher,
    ILoggerFactory? loggerFactory = null) : IHostedService, IAsyncDisposable
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
        if (publisher.GetType().FullName == "Rocket.Redis.RedisRocketPublisher")
        {
            // AddRedis makes every collection a replica of Redis, which a table-backed one cannot also be (yet).
            throw new InvalidOperationException($"Rocket.Postgres cannot serve {string.Join(", ", registrations.Select(r => "'" + r.Name + "'"))} in an app that puts its collections in Redis (AddRedis): a collection follows one source. See docs/postgres.md, \"Not built yet\".");
        }

        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<PostgresCollectionSource>();
        foreach (var registration in registrations.DistinctBy(r => r.Name))
        {
            var source = new PostgresCollectionSource(registry.GetCollection(registration.Name), options.Get(registration.Name), logger);
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
