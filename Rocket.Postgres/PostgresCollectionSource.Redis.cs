using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Npgsql;
using Npgsql.Replication;
using Rocket.Live;
using Rocket.Redis;
using StackExchange.Redis;

namespace Rocket.Postgres;

/// <summary>
/// A table-backed collection on several nodes (the app also calls <c>AddRedis</c>): the collection lives in Redis like
/// any other, every node's copy is a Redis replica, and one node at a time (the holder of the collection's lease in
/// Redis) reads the replication slot and feeds each transaction into Redis as the collection's next event.
/// </summary>
/// <remarks>
/// <para><b>Exactly once across a handover.</b> Redis's state records the slot it was built from and the WAL position
/// it holds everything before; the feed script refuses a transaction whose commit does not end past it. The holder
/// confirms a position to the slot only after Redis records it. So a new holder, which the slot replays from its
/// confirmed position (at or before Redis's), skips what Redis has and appends the rest: nothing is lost or doubled.</para>
/// <para><b>Fencing.</b> Each holding has its own token (a fence number from Redis); every script that changes the
/// collection checks it, so a holder that lost its lease (paused, cut off) cannot write once another has taken over;
/// PostgreSQL lets only one connection stream a slot besides.</para>
/// <para><b>Cursors.</b> As on one node: the epoch is derived from the database and the slot's name, the sequence counts
/// the table's transactions from the slot's creation. Only the sequence is kept in Redis rather than in the positions
/// table, so a handover changes neither.</para>
/// </remarks>
internal sealed partial class PostgresCollectionSource
{
    private readonly RedisReplicaService? _redis;
    private readonly SemaphoreSlim _leaseReleased = new(0, 1);
    private RedisCollectionReplica? _replica;
    private ChannelMessageQueue? _notices;
    private volatile string? _leaseToken;

    // The WAL position Redis's state holds everything before, as this holder knows it.
    private ulong _fedPosition;

    /// <summary>Whether this node holds the collection's lease (feeds it) now.</summary>
    public bool IsFeeding => _leaseToken is not null;

    /// <summary>
    /// Starts following on several nodes, once the host's services (the Redis replicas among them) have started: takes
    /// part in the lease, and waits until Redis holds a state built from the table (this node's, or another's).
    /// </summary>
    public async Task StartFollowingAsync(CancellationToken cancellationToken)
    {
        _replica = _redis!.GetReplica(_collection.Name);
        _replica.IsExternallyFed = true;
        _notices = await _redis.Connection!.GetSubscriber().SubscribeAsync(_replica.NoticeChannel).ConfigureAwait(false);
        _notices.OnMessage(message => OnNoticeAsync(message.Message));
        _run = RunFedAsync(_stopping.Token);
        _checkpoints = CheckpointLoopAsync(_stopping.Token);
        while (true)
        {
            try
            {
                var state = await _replica.ReadFeedAsync().ConfigureAwait(false);
                if (state is { Epoch: { } epoch, Source: { } source } && IsOurSlot(source))
                {
                    await _replica.CheckPositionAsync(cancellationToken).ConfigureAwait(false);
                    if (_collection.Cursor.Epoch == epoch)
                    {
                        return;
                    }
                }
            }
            catch (Exception e) when (e is SourceUnavailableException or RedisException)
            {
                // Redis is away for a moment: the host keeps waiting (its start token bounds it).
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    private bool IsOurSlot(string slot) =>
        slot.Length == _slotPrefix.Length + 9 && slot.StartsWith(_slotPrefix + "_", StringComparison.Ordinal);

    private async Task StopFollowingAsync()
    {
        if (_notices is { } notices)
        {
            _notices = null;
            try
            {
                await notices.UnsubscribeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or ObjectDisposedException)
            {
                // The connection is going away with the host.
            }
        }
    }

    private async Task RunFedAsync(CancellationToken stopping)
    {
        var node = string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}/{Environment.ProcessId}/{Cursor.NewEpoch():x8}");
        var duration = _options.LeaseDuration;
        while (!stopping.IsCancellationRequested)
        {
            string? token = null;
            try
            {
                token = await _replica!.TryAcquireLeaseAsync(node, duration).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SourceUnavailableException or RedisException)
            {
                Log.LeaseFailed(_logger, _collection.Name, e);
            }

            if (token is null)
            {
                // Another node feeds (or Redis is away): try again a third of a lease later, or as soon as it is released.
                try
                {
                    await _leaseReleased.WaitAsync(duration / 3, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            Log.LeaseAcquired(_logger, _collection.Name, token);
            using var holding = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            _leaseToken = token;
            var renewing = RenewLeaseAsync(token, holding);
            try
            {
                await RunAsync(holding.Token).ConfigureAwait(false);
            }
            finally
            {
                _leaseToken = null;
                await holding.CancelAsync().ConfigureAwait(false);
                await renewing.ConfigureAwait(false);
                try
                {
                    // Released at once (on stop, or after losing the slot), so another node takes over without waiting
                    // for the lease to expire. A token that is no longer the lease's releases nothing.
                    await _replica!.ReleaseLeaseAsync(token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SourceUnavailableException or RedisException)
                {
                    Log.LeaseFailed(_logger, _collection.Name, e);
                }

                Log.LeaseReleased(_logger, _collection.Name, token);
            }
        }
    }

    // Renews the lease every third of its duration; ends the holding when Redis says it is another's, or when it could
    // not be renewed for a whole duration (it may have expired and been taken: feeding on would be refused anyway).
    private async Task RenewLeaseAsync(string token, CancellationTokenSource holding)
    {
        var duration = _options.LeaseDuration;
        var renewed = Stopwatch.GetTimestamp();
        using var timer = new PeriodicTimer(duration / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(holding.Token).ConfigureAwait(false))
            {
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    if (!await _replica!.RenewLeaseAsync(token, duration).ConfigureAwait(false))
                    {
                        Log.LeaseLost(_logger, _collection.Name, token, "another node holds it");
                        await holding.CancelAsync().ConfigureAwait(false);
                        return;
                    }

                    renewed = sent;
                }
                catch (Exception e) when (e is SourceUnavailableException or RedisException)
                {
                    if (Stopwatch.GetElapsedTime(renewed) >= duration)
                    {
                        Log.LeaseLost(_logger, _collection.Name, token, "it could not be renewed: " + e.Message);
                        await holding.CancelAsync().ConfigureAwait(false);
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (holding.IsCancellationRequested)
        {
            // The holding ended.
        }
    }

    /// <summary>Resumes the slot Redis's state was built from, or (none, or another) makes a new slot and resets Redis.</summary>
    private async Task PrepareFedStreamAsync(LogicalReplicationConnection replication, string systemId, SlotInfo? slot, CancellationToken cancellationToken)
    {
        if (_leaseToken is null)
        {
            throw new LeaseLostException();
        }

        var state = await _replica!.ReadFeedAsync().ConfigureAwait(false);
        if (!_resync && slot is not null && state.Source == slot.Name && state.Epoch == EpochOf(systemId, slot.Name)
            && state.Position is { } text && ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var position)
            && slot.ConfirmedFlush <= position)
        {
            _slotName = slot.Name;
            _systemId = systemId;
            _epoch = EpochOf(systemId, slot.Name);
            _fedPosition = position;
            _appliedEnd = position;

            // This node's replica up to Redis's state: an update's unchanged TOASTed values are taken from it.
            await _replica.CheckPositionAsync(cancellationToken).ConfigureAwait(false);
            Log.Resuming(_logger, _collection.Name, slot.Name, Lsn.Format(position));
            return;
        }

        if (slot is not null)
        {
            // The slot does not match what Redis holds (Redis was flushed or restored, the table truncated, the slot
            // came from a one-node run): only a new slot and a new state are exact.
            Log.DroppingSlot(_logger, _collection.Name, slot.Name, "Redis does not hold the state it was read into");
            await DropSlotAsync(slot.Name, cancellationToken).ConfigureAwait(false);
        }

        await CreateSlotAndLoadAsync(replication, systemId, cancellationToken).ConfigureAwait(false);
    }

    private async Task ResetFedStateAsync(string slotName, ulong start, List<KeyValuePair<string, ReadOnlyMemory<byte>>> records, CancellationToken cancellationToken)
    {
        var token = _leaseToken ?? throw new LeaseLostException();
        if (!await _replica!.ResetAsync(token, _epoch, slotName, Position(start), records, cancellationToken).ConfigureAwait(false))
        {
            throw new LeaseLostException();
        }

        _fedPosition = start;
        _appliedEnd = start;
    }

    /// <summary>Feeds one committed transaction into Redis, unless Redis already holds it.</summary>
    private async Task FeedAsync(Transaction transaction, ulong end)
    {
        if (end <= _fedPosition)
        {
            // Replayed by the slot from its confirmed position: Redis has it (fed before a reconnection or a handover).
            return;
        }

        if (transaction.Truncated)
        {
            _resync = true;
            throw new RestartException("the table was truncated; making a new slot and loading the table again");
        }

        if (transaction.Changes.Count == 0)
        {
            return;
        }

        var token = _leaseToken ?? throw new LeaseLostException();
        var changes = new ChangeSet(transaction.Changes);
        var (status, cursor) = await _replica!.FeedAsync(token, _epoch, _slotName!, Position(end), transaction.Xid.ToString(CultureInfo.InvariantCulture), changes).ConfigureAwait(false);
        switch (status)
        {
            case FeedStatus.Fed:
                _fedPosition = end;
                _appliedEnd = end;
                if (_waiters.TryRemove(transaction.Xid, out var waiter))
                {
                    waiter.TrySetResult((cursor, changes));
                }

                break;
            case FeedStatus.AlreadyFed:
                _fedPosition = Math.Max(_fedPosition, end);
                break;
            case FeedStatus.Fenced:
                throw new LeaseLostException();
            default:
                _resync = true;
                throw new RestartException($"Redis no longer holds the state read from slot {_slotName} (flushed, restored or reset); making a new slot and loading the table again");
        }
    }

    // Before the slot is confirmed at `position`, Redis records that its state holds everything before it.
    private async Task AdvanceFedPositionAsync(ulong position)
    {
        var token = _leaseToken ?? throw new LeaseLostException();
        if (position > _fedPosition && !await _replica!.AdvanceAsync(token, _epoch, _slotName!, Position(position)).ConfigureAwait(false))
        {
            throw new LeaseLostException();
        }

        _fedPosition = Math.Max(_fedPosition, position);
    }

    private static string Position(ulong lsn) => lsn.ToString("X16", CultureInfo.InvariantCulture);

    private async Task OnNoticeAsync(RedisValue message)
    {
        var parts = ((string?)message ?? string.Empty).Split(' ');
        try
        {
            if (parts is ["released"])
            {
                try
                {
                    _leaseReleased.Release();
                }
                catch (SemaphoreFullException)
                {
                    // Already signalled.
                }
            }
            else if (parts is ["written", var xidText, var epochText, var sequenceText]
                && uint.TryParse(xidText, NumberStyles.None, CultureInfo.InvariantCulture, out var xid)
                && _waiters.TryRemove(xid, out var waiter)
                && uint.TryParse(epochText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var epoch)
                && long.TryParse(sequenceText, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                // A write this node made, fed by another: answered once this node's replica holds it, so a GET here
                // right after shows it.
                await _replica!.CheckPositionAsync().ConfigureAwait(false);
                waiter.TrySetResult((new Cursor(epoch, sequence), null));
            }
        }
#pragma warning disable CA1031 // A failed notice must not end the subscription; the write waiting on it times out with 503.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.NoticeFailed(_logger, _collection.Name, e);
        }
    }

    /// <summary>
    /// With <see cref="PostgresCollectionOptions.MaxSlotLag"/>: a slot of this collection further behind the WAL than the
    /// bound is dropped (its walsender ended first if it streams), so it no longer holds WAL; the next stream makes a
    /// new slot (a new epoch, clients reset). On several nodes every node checks, so the bound holds while the holder is
    /// stuck (Redis away) or gone.
    /// </summary>
    private async Task CheckLagAsync(CancellationToken cancellationToken)
    {
        if (_options.MaxSlotLag is null)
        {
            return;
        }

        try
        {
            foreach (var slot in await FindSlotsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!slot.OverLag(_options))
                {
                    continue;
                }

                Log.DroppingSlot(_logger, _collection.Name, slot.Name, $"it is {slot.Lag} bytes of WAL behind, past MaxSlotLag ({_options.MaxSlotLag})");
                await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
                await using (var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL", connection))
                {
                    terminate.Parameters.Add(new NpgsqlParameter { Value = slot.Name });
                    await terminate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                // The walsender takes a moment to go; the slot can be dropped only once it is inactive.
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        await DropSlotAsync(slot.Name, cancellationToken).ConfigureAwait(false);
                        break;
                    }
                    catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 50)
                    {
                        await Task.Delay(20, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception e) when (e is SourceUnavailableException or NpgsqlException)
        {
            // The database is away: the next tick checks again.
            Log.CheckpointFailed(_logger, _collection.Name, e);
        }
    }

    /// <summary>The lease was taken by another node (or could not be kept): this node stops feeding.</summary>
    private sealed class LeaseLostException() : Exception("This node no longer holds the collection's lease.");

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Information, "Collection {Collection}: this node feeds the collection into Redis (lease {Token})", EventName = "PostgresLeaseAcquired")]
        public static partial void LeaseAcquired(ILogger logger, string collection, string token);

        [LoggerMessage(21, LogLevel.Information, "Collection {Collection}: this node stopped feeding (lease {Token})", EventName = "PostgresLeaseReleased")]
        public static partial void LeaseReleased(ILogger logger, string collection, string token);

        [LoggerMessage(22, LogLevel.Warning, "Collection {Collection}: lease {Token} lost: {Reason}", EventName = "PostgresLeaseLost")]
        public static partial void LeaseLost(ILogger logger, string collection, string token, string reason);

        [LoggerMessage(23, LogLevel.Debug, "Collection {Collection}: the lease could not be taken or released", EventName = "PostgresLeaseFailed")]
        public static partial void LeaseFailed(ILogger logger, string collection, Exception exception);

        [LoggerMessage(24, LogLevel.Warning, "Collection {Collection}: a notice from Redis could not be handled", EventName = "PostgresNoticeFailed")]
        public static partial void NoticeFailed(ILogger logger, string collection, Exception exception);
    }
}
