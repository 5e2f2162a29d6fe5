using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rocket.Live;
using StackExchange.Redis;

namespace Rocket.Redis;

/// <summary>
/// Connects to Redis, loads every collection's replica before the server takes requests, feeds them from pub/sub, and
/// checks their position on a timer and whenever the connection comes back.
/// </summary>
/// <remarks>
/// Starting fails (and so does the host) when Redis cannot be reached: a node that served its empty in-memory state
/// as if it were the collection would hand out cursors that mean nothing.
/// </remarks>
internal sealed partial class RedisReplicaService : IHostedService, IFamilyInstanceSource, IAsyncDisposable
{
    private readonly CollectionRegistry _registry;
    private readonly RedisRocketOptions _options;
    private readonly IOptionsMonitor<LiveCollectionOptions> _collectionOptions;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ILogger _replicaLogger;
    private readonly Microsoft.Extensions.DependencyInjection.IServiceProviderIsKeyedService? _keyedServices;
    private readonly IConnectionMultiplexer? _shared;
    private readonly Dictionary<string, RedisCollectionReplica> _replicas = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private IConnectionMultiplexer? _owned;
    private IConnectionMultiplexer? _connection;
    private readonly RedisMetrics? _metrics;
    private Task _checks = Task.CompletedTask;

    public RedisReplicaService(
        CollectionRegistry registry,
        IOptions<RedisRocketOptions> options,
        IOptionsMonitor<LiveCollectionOptions> collectionOptions,
        ILoggerFactory? loggerFactory = null,
        IConnectionMultiplexer? connection = null,
        IMeterFactory? meterFactory = null,
        IServiceProvider? services = null)
    {
        _keyedServices = services?.GetService(typeof(Microsoft.Extensions.DependencyInjection.IServiceProviderIsKeyedService)) as Microsoft.Extensions.DependencyInjection.IServiceProviderIsKeyedService;
        _metrics = meterFactory is null ? null : new RedisMetrics(meterFactory);
        _registry = registry;
        _options = options.Value;
        _collectionOptions = collectionOptions;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<RedisReplicaService>();
        _replicaLogger = _loggerFactory.CreateLogger<RedisCollectionReplica>();
        _shared = connection;
    }

    // The connection once the service has started (for the health check).
    internal IConnectionMultiplexer? Connection => Volatile.Read(ref _connection);

    /// <summary>The replica of <paramref name="collection"/>.</summary>
    /// <exception cref="InvalidOperationException">No such collection, or the service has not started.</exception>
    public RedisCollectionReplica GetReplica(string collection)
    {
        lock (_replicas)
        {
            if (_replicas.TryGetValue(collection, out var replica))
            {
                return replica;
            }
        }

        _registry.GetCollection(collection);
        throw new InvalidOperationException($"Collection '{collection}' is not loaded from Redis yet: the host has not started.");
    }

    /// <summary>
    /// The replica of a registered collection, or of a family instance (matched by a family's template, and attached and
    /// loaded first when this node does not hold it in memory).
    /// </summary>
    /// <exception cref="InvalidOperationException">No collection or family has that name, or the service has not started.</exception>
    public async ValueTask<RedisCollectionReplica> GetReplicaAsync(string collection, CancellationToken cancellationToken)
    {
        lock (_replicas)
        {
            if (_replicas.TryGetValue(collection, out var replica))
            {
                return replica;
            }
        }

        foreach (var family in _registry.Families)
        {
            if (!family.TryMatch(collection, out var values))
            {
                continue;
            }

            var (lookup, instance, problem) = await family.GetOrCreateAsync(key => values.TryGetValue(key, out var value) ? value : null, cancellationToken).ConfigureAwait(false);
            if (instance is null)
            {
                throw new SourceUnavailableException(problem ?? $"Collection '{collection}' cannot be opened ({lookup}).", null, TimeSpan.FromSeconds(1));
            }

            lock (_replicas)
            {
                if (_replicas.TryGetValue(collection, out var replica) && ReferenceEquals(replica.Collection, instance))
                {
                    return replica;
                }
            }

            throw new SourceUnavailableException($"Collection '{collection}' was evicted while it was being written; nothing was written.", null, TimeSpan.FromSeconds(1));
        }

        return GetReplica(collection);
    }

    /// <inheritdoc/>
    public async Task AttachAsync(LiveCollection collection, string familyTemplate, CancellationToken cancellationToken)
    {
        var connection = Volatile.Read(ref _connection) ?? throw new InvalidOperationException($"Collection '{collection.Name}' cannot be loaded from Redis: the host has not started.");
        var replica = new RedisCollectionReplica(collection, connection.GetDatabase(), _options.KeyPrefix, _collectionOptions.Get(familyTemplate).HistoryMaxEvents, _options.LogMaxEvents, _options.FamilyInstanceTimeToLive, _replicaLogger)
        {
            Metrics = _metrics,
            MetricsName = familyTemplate,
        };
        RedisCollectionReplica? evicted;
        lock (_replicas)
        {
            // Listed before the load, so a write that finds the instance finds its replica. A replica still listed
            // under the name is of an instance the family has evicted (it creates one only after dropping the other)
            // whose Detach has not run yet: its subscription is dropped here, as Detach will no longer find it.
            _replicas.TryGetValue(collection.Name, out evicted);
            _replicas[collection.Name] = replica;
        }

        if (evicted is not null)
        {
            _ = UnsubscribeAsync(evicted);
        }

        try
        {
            await SubscribeAndLoadAsync(connection, replica, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
        {
            Detach(collection);
            throw new SourceUnavailableException($"Redis cannot be reached to load collection '{collection.Name}'.", e, TimeSpan.FromSeconds(1));
        }
        catch
        {
            Detach(collection);
            throw;
        }
    }

    /// <inheritdoc/>
    public void Detach(LiveCollection collection)
    {
        RedisCollectionReplica? replica;
        lock (_replicas)
        {
            if (!_replicas.TryGetValue(collection.Name, out replica) || !ReferenceEquals(replica.Collection, collection))
            {
                return;
            }

            _replicas.Remove(collection.Name);
        }

        _ = UnsubscribeAsync(replica);
    }

    private async Task UnsubscribeAsync(RedisCollectionReplica replica)
    {
        try
        {
            // Only this replica's queue: a new instance of the same name may have subscribed the channel already.
            if (replica.Subscription is { } queue)
            {
                await queue.UnsubscribeAsync().ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Unsubscribing is best effort: a dropped connection has no subscription left anyway.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.UnsubscribeFailed(_logger, replica.Collection.Name, e);
        }

        // Not disposed: a position check or a message may still be running on it, and its gate holds no handle.
    }

    private async Task SubscribeAndLoadAsync(IConnectionMultiplexer connection, RedisCollectionReplica replica, CancellationToken cancellationToken)
    {
        // Subscribed before the load, so nothing published in between is missed (an event the load already holds is
        // skipped by its sequence).
        var queue = await connection.GetSubscriber().SubscribeAsync(replica.Channel).ConfigureAwait(false);
        replica.Subscription = queue;
        queue.OnMessage(message => OnMessageAsync(replica, message.Message));
        await replica.LoadAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        RefuseCollectionsWithTheirOwnStore();
        Volatile.Write(ref _connection, _shared ?? (_owned = await ConnectAsync().ConfigureAwait(false)));
        var database = _connection.GetDatabase();
        foreach (var collection in _registry.Collections)
        {
            var replica = new RedisCollectionReplica(collection, database, _options.KeyPrefix, _collectionOptions.Get(collection.Name).HistoryMaxEvents, _options.LogMaxEvents, null, _replicaLogger)
            {
                Metrics = _metrics,
                MetricsName = collection.Name,
            };
            await SubscribeAndLoadAsync(_connection, replica, cancellationToken).ConfigureAwait(false);
            lock (_replicas)
            {
                _replicas.Add(collection.Name, replica);
            }
        }

        // Family instances live in Redis too: each is attached when the family creates it on this node.
        foreach (var family in _registry.Families)
        {
            family.Source = this;
        }

        _connection.ConnectionRestored += OnConnectionRestored;
        _checks = CheckPositionsAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _checks.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_connection is not null)
        {
            _connection.ConnectionRestored -= OnConnectionRestored;
            foreach (var replica in Replicas())
            {
                if (replica.Subscription is { } queue)
                {
                    await queue.UnsubscribeAsync().ConfigureAwait(false);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        foreach (var replica in Replicas())
        {
            replica.Dispose();
        }

        if (_owned is not null)
        {
            await _owned.DisposeAsync().ConfigureAwait(false);
        }
    }

    // A collection with its own store (AddCollection<TStore>) is loaded from, and written through, that store on each node;
    // Redis would be a second truth beside it, and nothing would keep the two, or several nodes' stores, in step (a
    // write on one node reaching another node's subscribers needs the log and the sequence in one place, committed with
    // the record). Refused at startup rather than half-working. The store's service type lives in Rocket.AspNetCore,
    // which this package does not depend on, so it is looked up by name.
    private void RefuseCollectionsWithTheirOwnStore()
    {
        if (_keyedServices is null || Type.GetType("Rocket.AspNetCore.ICollectionStore, Rocket.AspNetCore") is not { } storeType)
        {
            return;
        }

        foreach (var collection in _registry.Collections)
        {
            if (_keyedServices.IsKeyedService(storeType, collection.Name))
            {
                throw new InvalidOperationException(
                    $"Collection '{collection.Name}' has its own store (AddCollection<TStore>) and AddRedis puts every collection in Redis: " +
                    "a collection cannot have two stores. Keep it in its store on one node, or register it with AddCollection (no store) so that Redis holds its records.");
            }
        }
    }

    private async Task<IConnectionMultiplexer> ConnectAsync()
    {
        if (string.IsNullOrEmpty(_options.Configuration))
        {
            throw new InvalidOperationException("Rocket.Redis needs a connection: set RedisRocketOptions.Configuration (AddRedis(\"host:port\")) or register an IConnectionMultiplexer.");
        }

        var configuration = ConfigurationOptions.Parse(_options.Configuration);
        try
        {
            return await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        }
        catch (RedisConnectionException e)
        {
            throw new InvalidOperationException($"Rocket.Redis cannot reach Redis at '{_options.Configuration}': {e.Message}", e);
        }
    }

    private async Task OnMessageAsync(RedisCollectionReplica replica, RedisValue message)
    {
        try
        {
            // Read in place: a batch's events are mostly this node's own writes, skipped without a copy.
            var events = new List<(Cursor Cursor, ReadOnlyMemory<byte> Changes)>(1);
            if (!RedisChanges.TryParseMessage((ReadOnlyMemory<byte>)message, events))
            {
                Log.UnreadableMessage(_logger, replica.Collection.Name);
                return;
            }

            foreach (var (cursor, changes) in events)
            {
                // Most often this node's own write, which its commit already applied: not decoded again. (A replica's
                // cursor only moves forward within an epoch, so skipping on a stale read is safe.)
                var local = replica.Collection.Cursor;
                if (cursor.Epoch == local.Epoch && cursor.Sequence <= local.Sequence)
                {
                    continue;
                }

                await replica.OnPublishedAsync(cursor, RedisChanges.Decode(changes.Span)).ConfigureAwait(false);
            }
        }
        catch (ObjectDisposedException)
        {
            // An evicted family instance whose subscription is being dropped: nothing to keep up to date.
        }
#pragma warning disable CA1031 // A failed message must not end the subscription: the position check repairs the replica.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.MessageFailed(_logger, replica.Collection.Name, e);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) =>
        _ = CheckAllAsync(_stopping.Token);

    private async Task CheckPositionsAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.PositionCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await CheckAllAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task CheckAllAsync(CancellationToken cancellationToken)
    {
        foreach (var replica in Replicas())
        {
            try
            {
                await replica.CheckPositionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                // Evicted (a family instance) while its position was being checked.
            }
#pragma warning disable CA1031 // One collection's failed check must not stop the others'; the next tick tries again.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.CheckFailed(_logger, replica.Collection.Name, e);
            }
        }
    }

    private RedisCollectionReplica[] Replicas()
    {
        lock (_replicas)
        {
            return [.. _replicas.Values];
        }
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Warning, "Collection {Collection}: a Redis message that is not a Rocket event was ignored", EventName = "RedisUnreadableMessage")]
        public static partial void UnreadableMessage(ILogger logger, string collection);

        [LoggerMessage(11, LogLevel.Warning, "Collection {Collection}: a Redis event could not be applied; the position check will repair the replica", EventName = "RedisMessageFailed")]
        public static partial void MessageFailed(ILogger logger, string collection, Exception exception);

        [LoggerMessage(13, LogLevel.Debug, "Collection {Collection}: unsubscribing its Redis channel failed", EventName = "RedisUnsubscribeFailed")]
        public static partial void UnsubscribeFailed(ILogger logger, string collection, Exception exception);

        [LoggerMessage(12, LogLevel.Warning, "Collection {Collection}: the position check failed", EventName = "RedisCheckFailed")]
        public static partial void CheckFailed(ILogger logger, string collection, Exception exception);
    }
}
