using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Rocket.Live;
using StackExchange.Redis;

namespace Rocket.Redis;

/// <summary>
/// One collection on one node: writes commit in Redis through the write script, and the node's
/// <see cref="LiveCollection"/> is a replica fed, in sequence order, by the collection's pub/sub channel, by the
/// writes this node makes, and (for anything missed) by the log.
/// </summary>
/// <remarks>
/// Every change to the replica runs under one asynchronous gate, so the three feeds never interleave: an event is
/// applied only when it is the next one, a jump is filled from the log first, and an event of another epoch (Redis lost
/// its data, or another node created the collection anew) reloads the replica, which ends its subscribers so they
/// resume or reset. No feed blocks on Redis: pub/sub pushes, the log is read with <c>XRANGE</c> only to fill a gap.
/// </remarks>
internal sealed partial class RedisCollectionReplica : IHistorySource, IDisposable
{
    // A write that meets another epoch reloads and tries once more; a second change of epoch at once is not waited out.
    private const int EpochAttempts = 2;

    private readonly IDatabase _database;
    private readonly RedisKey[] _keys;
    private readonly int _historyCount;
    private readonly int _logCount;
    private readonly long _timeToLiveMs;
    private readonly string _channelName;
    private readonly ILogger _logger;

    // The oldest sequence the log is known to hold under the replica's epoch (set at each load). With the trimming
    // keeping at least `_logCount` entries, every event from max(this, seq - _logCount + 1) on is in the log.
    private long _logFirst = long.MaxValue;

    // The Redis instruments of the Rocket meter; none without an IMeterFactory.
    internal RedisMetrics? Metrics { get; init; }
    private readonly SemaphoreSlim _gate = new(1, 1);

    public RedisCollectionReplica(LiveCollection collection, IDatabase database, string keyPrefix, int historyCount, int logCount, TimeSpan? timeToLive, ILogger logger)
    {
        Collection = collection;
        _database = database;
        var tag = "{" + keyPrefix + ":" + collection.Name + "}";
        _keys = [tag + ":meta", tag + ":records", tag + ":log"];
        _channelName = keyPrefix + ":" + collection.Name;
        Channel = RedisChannel.Literal(_channelName);
        _historyCount = historyCount;

        // The log always covers the history a node loads from it.
        _logCount = Math.Max(logCount, historyCount);
        _timeToLiveMs = timeToLive is { } ttl ? Math.Max(1, (long)ttl.TotalMilliseconds) : 0;
        _logger = logger;
        collection.HistorySource = this;
    }

    /// <summary>The name metrics are recorded under (a family's template for its instances).</summary>
    public string MetricsName { get; init; } = string.Empty;

    /// <summary>Set by the service while the replica is subscribed: its pub/sub queue, unsubscribed on its own when evicted.</summary>
    internal ChannelMessageQueue? Subscription { get; set; }

    public LiveCollection Collection { get; }

    public void Dispose() => _gate.Dispose();

    public RedisChannel Channel { get; }

    /// <summary>Loads the replica from Redis: records, sequence and recent history, read at one instant.</summary>
    public Task LoadAsync(CancellationToken cancellationToken = default) => LoadAsync("start", cancellationToken);

    private async Task LoadAsync(string reason, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await LoadCoreAsync(reason).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Commits <paramref name="changes"/> in Redis and returns its cursor once this node's replica has it.</summary>
    /// <remarks>
    /// The write joins the collection's next batch (see <see cref="WriteBatchesAsync"/>): writes made while a batch is in
    /// Redis go together in one script call, each still committed or refused on its own. The token is observed until the
    /// write is queued; from then on the write is committed or refused whatever the caller does, and the caller is
    /// answered which (as a command sent to Redis cannot be called back, waiting on a token would only hide the answer).
    /// </remarks>
    /// <exception cref="ChangeRefusedException">The changes do not apply to the collection's state in Redis.</exception>
    /// <exception cref="SourceUnavailableException">Redis cannot be reached; nothing was written.</exception>
    public ValueTask<Cursor> CommitAsync(ChangeSet changes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        cancellationToken.ThrowIfCancellationRequested();
        var write = new PendingWrite(changes);
        Enqueue(write);
        return new ValueTask<Cursor>(write.Task);
    }

    /// <summary>Applies a published event, after any it skipped; an event of another epoch reloads the replica.</summary>
    public Task OnPublishedAsync(Cursor cursor, ChangeSet changes) => WithGateAsync(() => CatchUpCoreAsync(cursor, changes), CancellationToken.None);

    /// <summary>Compares the replica with Redis's meta; catches up from the log, or reloads on another epoch.</summary>
    /// <remarks>
    /// The meta is read under the gate: the replica only ever moves to positions Redis had already reached, so read
    /// there, Redis's sequence can be behind the replica's only if Redis lost writes (read outside, this node's own
    /// commits could pass it in between and look like a loss).
    /// </remarks>
    public Task CheckPositionAsync(CancellationToken cancellationToken = default) => WithGateAsync(
        async () =>
        {
            RedisResult[] meta;
            try
            {
                meta = (RedisResult[])(await _database.ScriptEvaluateAsync(RedisScripts.Position, _keys, [_timeToLiveMs]).ConfigureAwait(false))!;
            }
            catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
            {
                // Streams stay open while Redis is away; the next check, or the reconnection, catches up.
                Log.PositionCheckFailed(_logger, Collection.Name, e);
                return;
            }

            var local = Collection.Cursor;
            if (!TryParseEpoch((string)meta[0]!, out var epoch) || epoch != local.Epoch)
            {
                await LoadCoreAsync("epoch_changed").ConfigureAwait(false);
                return;
            }

            if ((int)meta[2] == 0)
            {
                // Another Redis than the epoch's (a promoted replica): the load starts a new epoch.
                await LoadCoreAsync("failover").ConfigureAwait(false);
                return;
            }

            var sequence = (long)meta[1];
            if (sequence < local.Sequence)
            {
                await RenewCoreAsync(local).ConfigureAwait(false);
                return;
            }

            await CatchUpCoreAsync(new Cursor(epoch, sequence), null).ConfigureAwait(false);
        },
        cancellationToken);

    private async Task WithGateAsync(Func<Task> action, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await action().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    // Under the gate. Brings the replica to `target`: nothing if it is there, the event itself if it is the next one, the
    // log's entries up to it if some were missed, a reload if the log no longer has them or the epoch changed.
    private async Task CatchUpCoreAsync(Cursor target, ChangeSet? changesAtTarget)
    {
        var local = Collection.Cursor;
        if (target.Epoch != local.Epoch)
        {
            await LoadCoreAsync("epoch_changed").ConfigureAwait(false);
            return;
        }

        if (target.Sequence <= local.Sequence)
        {
            return;
        }

        try
        {
            if (changesAtTarget is not null && target.Sequence == local.Sequence + 1)
            {
                Collection.ApplyCommitted(target, changesAtTarget);
                return;
            }

            var next = local.Sequence + 1;
            var entries = await _database.StreamRangeAsync(_keys[2], EntryId(next), EntryId(target.Sequence)).ConfigureAwait(false);
            foreach (var entry in entries)
            {
                var sequence = SequenceOf(entry.Id);
                if (sequence != next)
                {
                    break;
                }

                Collection.ApplyCommitted(new Cursor(target.Epoch, sequence), RedisChanges.Decode((byte[])entry["c"]!));
                Metrics?.CaughtUp(MetricsName);
                next++;
            }

            if (next <= target.Sequence)
            {
                // The log was trimmed past what this replica holds: only a reload is sure to miss nothing.
                Log.GapNotInLog(_logger, Collection.Name, local.ToString(), target.ToString());
                await LoadCoreAsync("gap").ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not ObjectDisposedException && (e is InvalidOperationException or ChangeRefusedException or FormatException))
        {
            // The replica and Redis disagree (a concurrent reload, a divergence): Redis holds the truth.
            Log.ReplicaDiverged(_logger, Collection.Name, e);
            await LoadCoreAsync("diverged").ConfigureAwait(false);
        }
    }

    // Under the gate. Redis holds less than this node saw under the same epoch: it lost writes that clients may have
    // seen, so the epoch must change (every cursor of it is now ambiguous), then the replica reloads what Redis has.
    private async Task RenewCoreAsync(Cursor local)
    {
        Log.RedisBehind(_logger, Collection.Name, local.ToString());
        await EvaluateAsync(RedisScripts.Renew, [RedisChanges.FormatEpoch(local.Epoch), local.Sequence, RedisChanges.FormatEpoch(Cursor.NewEpoch())]).ConfigureAwait(false);
        await LoadCoreAsync("behind").ConfigureAwait(false);
    }

    // Under the gate.
    private async Task LoadCoreAsync(string reason)
    {
        var reply = (RedisResult[])(await EvaluateAsync(RedisScripts.Load, [RedisChanges.FormatEpoch(Cursor.NewEpoch()), _historyCount, _timeToLiveMs]).ConfigureAwait(false))!;
        if (!TryParseEpoch((string)reply[0]!, out var epoch))
        {
            throw new FormatException($"Collection '{Collection.Name}' has an epoch in Redis that is not 8 hex digits.");
        }

        var sequence = (long)reply[1];
        var fields = (RedisResult[])reply[2]!;
        var records = new List<KeyValuePair<string, ReadOnlyMemory<byte>>>(fields.Length / 2);
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            records.Add(new((string)fields[i]!, (byte[])fields[i + 1]!));
        }

        // Newest first from XREVRANGE; kept only as far back as it runs unbroken from the current sequence.
        var entries = (RedisResult[])reply[3]!;
        var history = new List<(Cursor, ChangeSet)>(entries.Length);
        var expected = sequence;
        foreach (var item in entries)
        {
            var entry = (RedisResult[])item!;
            if (SequenceOf((string)entry[0]!) != expected)
            {
                break;
            }

            var entryFields = (RedisResult[])entry[1]!;
            history.Add((new Cursor(epoch, expected), RedisChanges.Decode((byte[])entryFields[1]!)));
            expected--;
        }

        history.Reverse();
        var oldest = (string?)reply[4];
        Volatile.Write(ref _logFirst, string.IsNullOrEmpty(oldest) ? sequence + 1 : SequenceOf(oldest));
        if ((string?)reply[5] == "failover")
        {
            Log.Failover(_logger, Collection.Name, new Cursor(epoch, sequence).ToString());
            reason = "failover";
        }

        Collection.Load(epoch, sequence, records, history);
        Log.Loaded(_logger, Collection.Name, new Cursor(epoch, sequence).ToString(), records.Count, history.Count);
        Metrics?.Loaded(MetricsName, reason);
    }

    private async Task<RedisResult> EvaluateAsync(string script, RedisValue[] arguments)
    {
        try
        {
            return await _database.ScriptEvaluateAsync(script, _keys, arguments).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
        {
            throw new SourceUnavailableException($"Redis cannot be reached for collection '{Collection.Name}'; nothing was written.", e, TimeSpan.FromSeconds(1));
        }
    }

    /// <inheritdoc/>
    public bool Covers(Cursor from, long current) =>
        from.Sequence + 1 >= Math.Max(Volatile.Read(ref _logFirst), current - _logCount + 1);

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<(Cursor Cursor, ChangeSet Changes)>> ReadAsync(Cursor after, int maxEvents, CancellationToken cancellationToken)
    {
        var reply = (RedisResult[])(await _database.ScriptEvaluateAsync(RedisScripts.Range, _keys, [RedisChanges.FormatEpoch(after.Epoch), EntryId(after.Sequence + 1), maxEvents]).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        if ((int)reply[0] == 0)
        {
            return [];
        }

        var entries = (RedisResult[])reply[1]!;
        var events = new List<(Cursor, ChangeSet)>(entries.Length);
        foreach (var item in entries)
        {
            var entry = (RedisResult[])item!;
            var fields = (RedisResult[])entry[1]!;
            events.Add((new Cursor(after.Epoch, SequenceOf((string)entry[0]!)), RedisChanges.Decode((byte[])fields[1]!)));
        }

        return events;
    }

    private ChangeRefusedException Refusal(string status, int index, string id) => status switch
    {
        "EXISTS" => new ChangeRefusedException(ChangeRefusal.RecordAlreadyExists, id, index, $"Collection '{Collection.Name}' already has a record '{id}'."),
        "NOTFOUND" => new ChangeRefusedException(ChangeRefusal.RecordNotFound, id, index, $"Collection '{Collection.Name}' has no record '{id}'."),
        _ => new ChangeRefusedException(ChangeRefusal.PreconditionFailed, id, index, $"Record '{id}' of collection '{Collection.Name}' changed since it was read."),
    };

    private static string EntryId(long sequence) => sequence.ToString(CultureInfo.InvariantCulture) + "-0";

    private static long SequenceOf(RedisValue entryId)
    {
        var text = (string)entryId!;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        return long.Parse(dash < 0 ? text : text[..dash], CultureInfo.InvariantCulture);
    }

    private static bool TryParseEpoch(string text, out uint epoch) =>
        uint.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out epoch) && text.Length == 8;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Collection {Collection} loaded from Redis at {Cursor}: {Records} records, {History} events of history", EventName = "RedisLoaded")]
        public static partial void Loaded(ILogger logger, string collection, string cursor, int records, int history);

        [LoggerMessage(2, LogLevel.Warning, "Collection {Collection}: Redis has epoch '{RedisEpoch}', this node {NodeEpoch}; reloading", EventName = "RedisEpochChanged")]
        public static partial void EpochChanged(ILogger logger, string collection, string nodeEpoch, string redisEpoch);

        [LoggerMessage(3, LogLevel.Warning, "Collection {Collection}: the events after {Local} up to {Target} are no longer in the Redis log; reloading", EventName = "RedisGapNotInLog")]
        public static partial void GapNotInLog(ILogger logger, string collection, string local, string target);

        [LoggerMessage(4, LogLevel.Warning, "Collection {Collection}: the replica disagrees with Redis; reloading", EventName = "RedisReplicaDiverged")]
        public static partial void ReplicaDiverged(ILogger logger, string collection, Exception exception);

        [LoggerMessage(6, LogLevel.Warning, "Collection {Collection}: Redis is behind this node's {Cursor} under the same epoch (it lost writes: restored from an older snapshot, or a replica was promoted); starting a new epoch", EventName = "RedisBehind")]
        public static partial void RedisBehind(ILogger logger, string collection, string cursor);

        [LoggerMessage(7, LogLevel.Warning, "Collection {Collection}: Redis is not the server its epoch was written on (a replica was promoted, or the server restarted); started the new epoch at {Cursor}, and every client resets", EventName = "RedisFailover")]
        public static partial void Failover(ILogger logger, string collection, string cursor);

        [LoggerMessage(5, LogLevel.Debug, "Collection {Collection}: the position check could not reach Redis", EventName = "RedisPositionCheckFailed")]
        public static partial void PositionCheckFailed(ILogger logger, string collection, Exception exception);
    }
}
