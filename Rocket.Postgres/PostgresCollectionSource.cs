using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Data;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;
using Rocket.Live;
using Rocket.Redis;

namespace Rocket.Postgres;

/// <summary>
/// One collection following one table: loads it, feeds it every committed transaction on the table in commit order as
/// one event (a replica of the table, written only through <see cref="LiveCollection.ApplyCommitted"/>), reconnects with
/// backoff, and records its position in the slot so a restarted app resumes where it was.
/// </summary>
/// <remarks>
/// <para><b>Cursors.</b> A collection's sequence counts the table's transactions (one per transaction that changed the
/// table), in commit order. The epoch is derived from the database's system identifier and the slot's name, and the
/// name carries 8 random hex digits chosen when the slot is created: another database, or a recreated slot, is another
/// epoch, so a client's old cursor gets a reset, never a replay of the wrong events.</para>
/// <para><b>Positions.</b> Every <see cref="PostgresCollectionOptions.CheckpointInterval"/> while changes flow, Rocket
/// writes a logical decoding message into the WAL, "at WAL position X the sequence was N". When that message comes back
/// through the slot, every change before it has been applied, and Rocket confirms X to the server (its flushed LSN). A
/// restarted app finds the message again right after the confirmed position, so it knows the sequence there and counts on.</para>
/// <para><b>Loading.</b> A new slot is created with an exported snapshot, and the rows are read in that snapshot: the
/// state and the stream's start agree exactly. An existing slot (an app restart) cannot give a snapshot of its position,
/// so the rows are read in a snapshot of now, a marker message is written, and the transactions the slot replays up to
/// the marker are applied to those rows only if the snapshot does not already see them (by transaction id); at the marker
/// the state is exact and the collection is loaded.</para>
/// </remarks>
internal sealed partial class PostgresCollectionSource : IAsyncDisposable
{
    private readonly LiveCollection _collection;
    private readonly PostgresCollectionOptions _options;
    private readonly ILogger _logger;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _slotPrefix;
    private readonly string _publication;
    private readonly string _messagePrefix;
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<(Cursor Cursor, ChangeSet? Changes)>> _waiters = new();
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _positionLock = new();

    private readonly string _positionsTable;
    private TableMapping _mapping = null!;
    private int _stopped;
    private int _disposed;
    private Task _run = Task.CompletedTask;
    private Task _checkpoints = Task.CompletedTask;
    private string? _slotName;
    private string? _systemId;
    private uint _epoch;
    private bool _live;
    private bool _resync;
    private bool _dropSlot;
    private ulong _appliedEnd;

    // The last transaction counted: its end and its sequence. Recorded in the positions table before the slot is
    // confirmed past it, so a restart knows the sequence at the slot's confirmed position.
    private ulong _knownLsn;
    private long _knownSequence;
    private ulong _recordedLsn;
    private long _recordedSequence = -1;
    private ulong _confirmedLsn;
    private ulong _lastCommitEnd;
    private bool _transactionOpen;
    private LogicalReplicationConnection? _replication;
    private CancellationTokenSource? _streamCancel;

    public PostgresCollectionSource(LiveCollection collection, PostgresCollectionOptions options, ILogger logger, RedisReplicaService? redis = null)
    {
        _collection = collection;
        _options = options;
        _logger = logger;
        _redis = redis;
        if (string.IsNullOrEmpty(options.ConnectionString))
        {
            throw new InvalidOperationException($"Collection '{collection.Name}': PostgresCollectionOptions.ConnectionString is not set.");
        }

        if (options.MaxSlotLag is <= 0)
        {
            throw new InvalidOperationException($"Collection '{collection.Name}': PostgresCollectionOptions.MaxSlotLag is a number of bytes above 0 (or null for no bound); it is {options.MaxSlotLag}.");
        }

        if (redis is not null && options.LeaseDuration < TimeSpan.FromMilliseconds(300))
        {
            throw new InvalidOperationException($"Collection '{collection.Name}': PostgresCollectionOptions.LeaseDuration must be at least 300 ms (it is renewed every third of it); it is {options.LeaseDuration}.");
        }

        _dataSource = NpgsqlDataSource.Create(options.ConnectionString);
        _positionsTable = options.PositionsTable;
        var name = Sanitize(collection.Name);
        _slotPrefix = options.SlotPrefix ?? "rocket_" + name;
        if (_slotPrefix.Length > 50)
        {
            _slotPrefix = _slotPrefix[..50];
        }

        _publication = options.Publication ?? "rocket_" + name;
        _messagePrefix = "rocket:" + _slotPrefix;
    }

    public LiveCollection Collection => _collection;

    public TableMapping Mapping => _mapping;

    /// <summary>The slot this collection reads now (for diagnostics and tests).</summary>
    public string? SlotName => _slotName;

    /// <summary>Checks the table, makes sure the publication exists, and loads the collection; throws when it cannot.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_collection.IsReplica && _redis is null)
        {
            throw new InvalidOperationException($"Collection '{_collection.Name}' is already fed by another source; a collection follows one source.");
        }

        await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            _mapping = await TableMapping.DiscoverAsync(connection, _collection.Name, _options, cancellationToken).ConfigureAwait(false);
            await EnsurePublicationAsync(connection, cancellationToken).ConfigureAwait(false);
            await using var create = new NpgsqlCommand($"CREATE TABLE IF NOT EXISTS {_positionsTable} (slot_name text PRIMARY KEY, lsn pg_lsn NOT NULL, sequence bigint NOT NULL)", connection);
            try
            {
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable or PostgresErrorCodes.DuplicateObject)
            {
                // Created by another node at the same moment.
            }
        }

        if (_redis is not null)
        {
            // With several nodes the collection lives in Redis, whose replica starts with the host's other services:
            // following begins once they have (StartFollowingAsync).
            return;
        }

        _run = RunAsync(_stopping.Token);
        _checkpoints = CheckpointLoopAsync(_stopping.Token);
        await _loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_run, _checkpoints).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        await StopFollowingAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Dispose();
            _leaseReleased.Dispose();
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new SourceUnavailableException($"PostgreSQL cannot be reached for collection '{_collection.Name}'; nothing was written.", e, TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Registers interest in the transaction <paramref name="xid"/>, before it commits.</summary>
    internal Task<(Cursor Cursor, ChangeSet? Changes)> WaitForTransaction(uint xid)
    {
        var waiter = new TaskCompletionSource<(Cursor, ChangeSet?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters[xid] = waiter;
        return waiter.Task;
    }

    internal void ForgetTransaction(uint xid) => _waiters.TryRemove(xid, out _);

    private async Task EnsurePublicationAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1), EXISTS (SELECT 1 FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid WHERE p.pubname = $1 AND r.prrelid = $2) OR EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1 AND puballtables)", connection);
        exists.Parameters.Add(new NpgsqlParameter { Value = _publication });
        exists.Parameters.Add(new NpgsqlParameter { Value = _mapping.Oid, NpgsqlDbType = NpgsqlDbType.Oid });
        bool publicationExists, hasTable;
        await using (var reader = await exists.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            publicationExists = reader.GetBoolean(0);
            hasTable = reader.GetBoolean(1);
        }

        if (hasTable)
        {
            return;
        }

        var sql = publicationExists
            ? $"ALTER PUBLICATION {TableMapping.Quote(_publication)} ADD TABLE {_mapping.QualifiedName}"
            : $"CREATE PUBLICATION {TableMapping.Quote(_publication)} FOR TABLE {_mapping.QualifiedName}";
        try
        {
            await using var create = new NpgsqlCommand(sql, connection);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            Log.PublicationCreated(_logger, _collection.Name, _publication);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateObject)
        {
            // Another node created it at the same time.
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var delay = _options.ReconnectDelay;
        while (!stopping.IsCancellationRequested)
        {
            var streamed = false;
            try
            {
                await StreamAsync(() => streamed = true, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (LeaseLostException)
            {
                // Another node feeds the collection now: back to following it.
                return;
            }
            catch (RestartException e)
            {
                // Decided by the source itself (load again, or a new slot): at once, but never in a tight loop.
                Log.Restarting(_logger, _collection.Name, e.Message);
                streamed = true;
            }
#pragma warning disable CA1031 // Any failure of the stream (database down, slot gone, a bug) is logged and retried with backoff.
            catch (Exception e)
#pragma warning restore CA1031
            {
                if (!_loaded.Task.IsCompleted && _replica is null)
                {
                    // The host is waiting to start: it fails with the reason rather than serving an empty collection.
                    _loaded.TrySetException(e);
                    return;
                }

                Log.StreamFailed(_logger, _collection.Name, delay, e);
            }
            finally
            {
                _live = false;
            }

            if (streamed)
            {
                delay = _options.ReconnectDelay;
            }

            try
            {
                await Task.Delay(delay, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    private sealed record SlotInfo(string Name, ulong ConfirmedFlush, bool Lost, bool Active, long Lag)
    {
        // Past the bound the slot is dropped rather than consumed: its WAL is freed, and a new slot is a new epoch.
        public bool OverLag(PostgresCollectionOptions options) => options.MaxSlotLag is { } max && Lag > max;
    }

    private async Task<List<SlotInfo>> FindSlotsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT slot_name::text, confirmed_flush_lsn::text, coalesce(wal_status = 'lost', false), active, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(confirmed_flush_lsn, restart_lsn))::bigint, 0) FROM pg_replication_slots WHERE database = current_database() AND plugin = 'pgoutput' AND slot_name LIKE $1 ORDER BY slot_name",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = _slotPrefix.Replace("_", "\\_", StringComparison.Ordinal) + "\\_%" });
        var slots = new List<SlotInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var name = reader.GetString(0);
            if (name.Length == _slotPrefix.Length + 9 && uint.TryParse(name.AsSpan(_slotPrefix.Length + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _))
            {
                slots.Add(new SlotInfo(name, reader.IsDBNull(1) ? 0 : ParseLsn(reader.GetString(1)), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetInt64(4)));
            }
        }

        return slots;
    }

    private async Task DropSlotAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var sql in new[] { "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", $"DELETE FROM {_positionsTable} WHERE slot_name = $1" })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = name });
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StreamAsync(Action streaming, CancellationToken cancellationToken)
    {
        var replication = new LogicalReplicationConnection(_options.ConnectionString);
        await using (replication.ConfigureAwait(false))
        {
            await replication.Open(cancellationToken).ConfigureAwait(false);
            var system = await replication.IdentifySystem(cancellationToken).ConfigureAwait(false);
            var slots = await FindSlotsAsync(cancellationToken).ConfigureAwait(false);
            foreach (var lost in slots.Where(s => s.Lost || _dropSlot || slots.Count > 1 || s.OverLag(_options)).ToList())
            {
                // An invalidated slot (past max_slot_wal_keep_size) can give no more changes; one further behind than
                // MaxSlotLag is given up to free its WAL; several slots of one prefix are leftovers of an interrupted
                // start. Either way only a new slot, a new epoch, is sure.
                Log.DroppingSlot(_logger, _collection.Name, lost.Name, lost.Lost ? "it was invalidated (WAL it needs was removed)"
                    : lost.OverLag(_options) ? $"it is {lost.Lag} bytes of WAL behind, past MaxSlotLag ({_options.MaxSlotLag})"
                    : "it cannot be resumed exactly");
                await DropSlotAsync(lost.Name, cancellationToken).ConfigureAwait(false);
                slots.Remove(lost);
            }

            _dropSlot = false;
            var slot = slots.SingleOrDefault();
            CatchUp? catchUp = null;
            if (_replica is not null)
            {
                await PrepareFedStreamAsync(replication, system.SystemId, slot, cancellationToken).ConfigureAwait(false);
            }
            else if (slot is not null && slot.Name == _slotName && system.SystemId == _systemId && _loaded.Task.IsCompletedSuccessfully && !_resync)
            {
                // The same slot on the same database: carry on from what the collection holds.
                Log.Resuming(_logger, _collection.Name, slot.Name, Lsn.Format(_appliedEnd));
            }
            else if (slot is not null)
            {
                _slotName = slot.Name;
                _systemId = system.SystemId;
                _epoch = EpochOf(system.SystemId, slot.Name);
                _recordedSequence = -1;
                catchUp = await PrepareCatchUpAsync(slot.ConfirmedFlush, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await CreateSlotAndLoadAsync(replication, system.SystemId, cancellationToken).ConfigureAwait(false);
            }

            _resync = false;
            using var streamCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _streamCancel = streamCancel;
            _replication = replication;
            _confirmedLsn = 0;
            _lastCommitEnd = 0;
            _transactionOpen = false;
            cancellationToken = streamCancel.Token;
            var options = new PgOutputReplicationOptions(_publication, PgOutputProtocolVersion.V1, binary: false, streamingMode: PgOutputStreamingMode.Off, messages: true);
            Transaction? transaction = null;
            // Live (confirming positions) from the start when the collection already holds the slot's state; after a
            // catch-up, from its marker on.
            _live = catchUp is null;
            var first = true;
            await foreach (var message in replication.StartReplication(new PgOutputReplicationSlot(_slotName!), options, cancellationToken).ConfigureAwait(false))
            {
                if (first)
                {
                    // The stream works: the next failure starts the backoff from its shortest wait again.
                    first = false;
                    streaming();
                }


                switch (message)
                {
                    case BeginMessage begin:
                        transaction = new Transaction(begin.TransactionXid);
                        Volatile.Write(ref _transactionOpen, true);
                        break;
                    case InsertMessage insert when insert.Relation.RelationId == _mapping.Oid && transaction is not null:
                        {
                            var (id, record) = await ReadRowAsync(insert.Relation, insert.NewRow, transaction, catchUp, cancellationToken).ConfigureAwait(false);
                            transaction.Add(RecordChange.Create(id, record), record);
                            break;
                        }

                    case UpdateMessage update when update.Relation.RelationId == _mapping.Oid && transaction is not null:
                        {
                            string? oldId = update switch
                            {
                                IndexUpdateMessage index => await ReadKeyAsync(update.Relation, index.Key, cancellationToken).ConfigureAwait(false),
                                FullUpdateMessage full => await ReadKeyAsync(update.Relation, full.OldRow, cancellationToken).ConfigureAwait(false),
                                _ => null,
                            };
                            var (id, record) = await ReadRowAsync(update.Relation, update.NewRow, transaction, catchUp, cancellationToken).ConfigureAwait(false);
                            if (oldId is not null && oldId != id)
                            {
                                // The key changed: the record under the old id went, one under the new id came.
                                transaction.Add(RecordChange.Destroy(oldId), null);
                                transaction.Add(RecordChange.Create(id, record), record);
                            }
                            else
                            {
                                transaction.Add(RecordChange.Update(id, record), record);
                            }

                            break;
                        }

                    case KeyDeleteMessage delete when delete.Relation.RelationId == _mapping.Oid && transaction is not null:
                        transaction.Add(RecordChange.Destroy(await ReadKeyAsync(delete.Relation, delete.Key, cancellationToken).ConfigureAwait(false)), null);
                        break;
                    case FullDeleteMessage delete when delete.Relation.RelationId == _mapping.Oid && transaction is not null:
                        transaction.Add(RecordChange.Destroy(await ReadKeyAsync(delete.Relation, delete.OldRow, cancellationToken).ConfigureAwait(false)), null);
                        break;
                    case TruncateMessage truncate when truncate.Relations.Any(r => r.RelationId == _mapping.Oid) && transaction is not null:
                        transaction.Truncated = true;
                        break;
                    case CommitMessage commit when transaction is not null:
                        if (_replica is not null)
                        {
                            await FeedAsync(transaction, (ulong)commit.TransactionEndLsn).ConfigureAwait(false);
                        }
                        else
                        {
                            catchUp = await CommitAsync(transaction, (ulong)commit.TransactionEndLsn, catchUp).ConfigureAwait(false);
                        }

                        transaction = null;
                        Volatile.Write(ref _lastCommitEnd, (ulong)commit.TransactionEndLsn);
                        Volatile.Write(ref _transactionOpen, false);
                        break;
                    case LogicalDecodingMessage logical when logical.Prefix == _messagePrefix:
                        catchUp = await OnMessageAsync(replication, logical, catchUp, cancellationToken).ConfigureAwait(false);
                        break;
                }
            }
        }
    }

    private async Task CreateSlotAndLoadAsync(LogicalReplicationConnection replication, string systemId, CancellationToken cancellationToken)
    {
        var name = $"{_slotPrefix}_{Cursor.NewEpoch():x8}";
        var slot = await replication.CreatePgOutputReplicationSlot(name, temporarySlot: false, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.Export, cancellationToken: cancellationToken).ConfigureAwait(false);
        var records = new List<KeyValuePair<string, ReadOnlyMemory<byte>>>();
        await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            // The rows exactly as of the slot's start: the snapshot the slot exported, valid until the replication
            // connection's next command (START_REPLICATION, after this).
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            await using (var set = new NpgsqlCommand($"SET TRANSACTION SNAPSHOT '{slot.SnapshotName!.Replace("'", "''", StringComparison.Ordinal)}'", connection, transaction))
            {
                await set.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await ReadAllAsync(connection, transaction, records, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        _slotName = name;
        _systemId = systemId;
        _epoch = EpochOf(systemId, name);
        var start = (ulong)slot.ConsistentPoint;
        if (_replica is not null)
        {
            await ResetFedStateAsync(name, start, records, cancellationToken).ConfigureAwait(false);
            Log.SlotCreated(_logger, _collection.Name, name, Lsn.Format(start), records.Count, new Cursor(_epoch, 0).ToString());
            return;
        }

        _collection.Load(_epoch, 0, records);
        _appliedEnd = start;
        SetKnown(start, 0);
        _recordedSequence = -1;

        // The first position record: a restart before any change resumes here with sequence 0.
        await RecordPositionAsync(cancellationToken).ConfigureAwait(false);
        Log.SlotCreated(_logger, _collection.Name, name, Lsn.Format(start), records.Count, new Cursor(_epoch, 0).ToString());
        _loaded.TrySetResult();
    }

    private async Task ReadAllAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<KeyValuePair<string, ReadOnlyMemory<byte>>> records, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand($"SELECT {_mapping.SelectList} FROM {_mapping.QualifiedName}", connection, transaction);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var (id, record) = _mapping.ReadRecord(reader);
            records.Add(new(id, record));
        }
    }

    /// <summary>The rows now, what the snapshot they were read in sees, and a marker written after it.</summary>
    private async Task<CatchUp> PrepareCatchUpAsync(ulong from, CancellationToken cancellationToken)
    {
        var records = new List<KeyValuePair<string, ReadOnlyMemory<byte>>>();
        string snapshot;
        (ulong Lsn, long Sequence)? position = null;
        await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await using (var read = new NpgsqlCommand($"SELECT lsn::text, sequence FROM {_positionsTable} WHERE slot_name = $1", connection))
            {
                read.Parameters.Add(new NpgsqlParameter { Value = _slotName });
                await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    position = (ParseLsn(reader.GetString(0)), reader.GetInt64(1));
                }
            }

            if (position is null)
            {
                // No record of the sequence at the slot's position (the positions table was emptied, or the slot was
                // made by someone else): only a new slot is exact.
                _dropSlot = true;
                throw new RestartException($"slot {_slotName} has no position record in {_positionsTable}; creating a new slot (clients reset)");
            }

            await using (var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false))
            {
                await using (var command = new NpgsqlCommand("SELECT pg_current_snapshot()::text", connection, transaction))
                {
                    snapshot = (string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                }

                await ReadAllAsync(connection, transaction, records, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            var nonce = Guid.NewGuid().ToString("N");
            await EmitAsync(connection, "s " + nonce, cancellationToken).ConfigureAwait(false);
            Log.CatchingUp(_logger, _collection.Name, _slotName!, Lsn.Format(from), records.Count);
            return new CatchUp(from, SnapshotVisibility.Parse(snapshot), nonce, records.ToDictionary(r => r.Key, r => r.Value.ToArray(), StringComparer.Ordinal)) { Mapping = position };
        }
    }

    private async Task<CatchUp?> CommitAsync(Transaction transaction, ulong end, CatchUp? catchUp)
    {
        if (catchUp is not null)
        {
            if (end > catchUp.From && (transaction.Changes.Count > 0 || transaction.Truncated))
            {
                catchUp.Ends.Add(end);
                if (!catchUp.Snapshot.Sees(transaction.Xid))
                {
                    if (transaction.Truncated)
                    {
                        catchUp.Records.Clear();
                    }

                    foreach (var change in transaction.Changes)
                    {
                        if (change.Kind == RecordChangeKind.Destroy)
                        {
                            catchUp.Records.Remove(change.Id);
                        }
                        else
                        {
                            catchUp.Records[change.Id] = change.Value.ToArray();
                        }
                    }
                }

                catchUp.Xids.Add(transaction.Xid);
            }

            return catchUp;
        }

        if (end <= _appliedEnd)
        {
            // Sent again after a reconnection (the slot resumes from its confirmed position): already applied.
            return null;
        }

        if (transaction.Truncated)
        {
            // A truncate removes every record; simplest exact answer is to load the table again (subscribers reset).
            _appliedEnd = end;
            _resync = true;
            throw new RestartException("the table was truncated; loading it again");
        }

        if (transaction.Changes.Count == 0)
        {
            _appliedEnd = end;
            return null;
        }

        var changes = new ChangeSet(transaction.Changes);
        var cursor = new Cursor(_epoch, _collection.Cursor.Sequence + 1);
        try
        {
            _collection.ApplyCommitted(cursor, changes);
        }
        catch (Exception e) when (e is ChangeRefusedException or InvalidOperationException)
        {
            // The replica and the table disagree (someone changed the table in a way the stream could not show, or a
            // row is over the collection's record budgets): the table is the truth, load it again.
            _resync = true;
            throw new RestartException($"a change did not apply ({e.Message}); loading the table again");
        }

        _appliedEnd = end;
        SetKnown(end, cursor.Sequence);
        if (_waiters.TryRemove(transaction.Xid, out var waiter))
        {
            waiter.TrySetResult((cursor, changes));
        }

        return null;
    }

    private async Task<CatchUp?> OnMessageAsync(LogicalReplicationConnection replication, LogicalDecodingMessage message, CatchUp? catchUp, CancellationToken cancellationToken)
    {
        string text;
        using (var reader = new StreamReader(message.Data, Encoding.UTF8))
        {
            text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }

        var parts = text.Split(' ');
        if (parts is ["s", var nonce] && catchUp is not null && nonce == catchUp.Nonce)
        {
            var mapping = catchUp.Mapping!.Value;
            var counted = catchUp.Ends.Where(end => end > mapping.Lsn).ToList();
            var sequence2 = mapping.Sequence + counted.Count;
            _collection.Load(_epoch, sequence2, catchUp.Records.Select(r => new KeyValuePair<string, ReadOnlyMemory<byte>>(r.Key, r.Value)));
            _appliedEnd = Math.Max(catchUp.From, catchUp.Ends.Count > 0 ? catchUp.Ends.Max() : 0);
            SetKnown(counted.Count > 0 ? counted.Max() : mapping.Lsn, sequence2);
            var cursor = new Cursor(_epoch, sequence2);
            foreach (var xid in catchUp.Xids)
            {
                if (_waiters.TryRemove(xid, out var waiter))
                {
                    waiter.TrySetResult((cursor, null));
                }
            }

            Log.Loaded(_logger, _collection.Name, _slotName!, cursor.ToString(), catchUp.Records.Count, catchUp.Ends.Count);
            _live = true;
            _loaded.TrySetResult();
            return null;
        }

        return catchUp;
    }

    private void SetKnown(ulong lsn, long sequence)
    {
        lock (_positionLock)
        {
            _knownLsn = lsn;
            _knownSequence = sequence;
        }
    }

    private async Task CheckpointLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.CheckpointInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await ConfirmAsync(cancellationToken).ConfigureAwait(false);
                await CheckLagAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    // Records the sequence of the last transaction counted, then confirms to the server everything received so far:
    // the slot may recycle the WAL before it, and a restarted app resumes there knowing its sequence. What Npgsql has
    // received (each message's position, and the server's position in keepalives) was handed to this source in order,
    // so every transaction that ends before it was counted; one still being received commits after it and is sent again.
    private async Task ConfirmAsync(CancellationToken cancellationToken)
    {
        var replication = _replication;
        if (!_live || replication is null)
        {
            return;
        }

        // A commit Npgsql has received may not be applied yet; its transaction's Begin has been (the stream is read in
        // order), so while a transaction is open only what the last applied commit ended at is confirmed.
        var received = (ulong)replication.LastReceivedLsn;
        var confirm = Volatile.Read(ref _transactionOpen) ? Volatile.Read(ref _lastCommitEnd) : received;
        try
        {
            if (_replica is not null)
            {
                await AdvanceFedPositionAsync(confirm).ConfigureAwait(false);
            }
            else
            {
                await RecordPositionAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SourceUnavailableException or NpgsqlException or LeaseLostException)
        {
            // Without the record the slot must not move on; and a server shutting down waits for its walsenders to be
            // confirmed up to date, so rather than hold it up, this connection ends (and reconnects with backoff).
            Log.CheckpointFailed(_logger, _collection.Name, e);
            if (_streamCancel is { } cancel)
            {
                try
                {
                    await cancel.CancelAsync().ConfigureAwait(false);
                }
                catch (ObjectDisposedException)
                {
                    // The stream ended meanwhile (and disposed its source): there is nothing left to end.
                }
            }

            return;
        }

        if (confirm > _confirmedLsn && _live && ReferenceEquals(replication, _replication))
        {
            replication.SetReplicationStatus(new NpgsqlLogSequenceNumber(confirm));
            try
            {
                await replication.SendStatusUpdate(cancellationToken).ConfigureAwait(false);
                _confirmedLsn = confirm;
            }
            catch (Exception e) when (e is InvalidOperationException or NpgsqlException or ObjectDisposedException)
            {
                // The stream ended meanwhile; the next one confirms.
                Log.CheckpointFailed(_logger, _collection.Name, e);
            }
        }
    }

    private async Task RecordPositionAsync(CancellationToken cancellationToken)
    {
        ulong lsn;
        long sequence;
        lock (_positionLock)
        {
            lsn = _knownLsn;
            sequence = _knownSequence;
        }

        if (lsn == _recordedLsn && sequence == _recordedSequence)
        {
            return;
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"INSERT INTO {_positionsTable} (slot_name, lsn, sequence) VALUES ($1, $2::pg_lsn, $3) ON CONFLICT (slot_name) DO UPDATE SET lsn = excluded.lsn, sequence = excluded.sequence", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = _slotName });
        command.Parameters.Add(new NpgsqlParameter { Value = Lsn.Format(lsn) });
        command.Parameters.Add(new NpgsqlParameter { Value = sequence });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        _recordedLsn = lsn;
        _recordedSequence = sequence;
    }

    private async Task EmitAsync(NpgsqlConnection connection, string content, CancellationToken cancellationToken)
    {
        // Not transactional: decoded where it is written, between the transactions that committed before and after it.
        await using var command = new NpgsqlCommand("SELECT pg_logical_emit_message(false, $1, $2)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = _messagePrefix });
        command.Parameters.Add(new NpgsqlParameter { Value = content });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> ReadKeyAsync(RelationMessage relation, ReplicationTuple tuple, CancellationToken cancellationToken)
    {
        var keys = new string?[_mapping.Keys.Length];
        var i = 0;
        await foreach (var value in tuple.ConfigureAwait(false))
        {
            var keyIndex = _mapping.KeyIndex(relation.Columns[i++].ColumnName);
            if (keyIndex >= 0 && !value.IsDBNull && !value.IsUnchangedToastedValue)
            {
                keys[keyIndex] = await ReadTextAsync(value, cancellationToken).ConfigureAwait(false);
            }
        }

        return IdOf(keys);
    }

    private string IdOf(string?[] keys)
    {
        for (var k = 0; k < keys.Length; k++)
        {
            if (keys[k] is null)
            {
                throw new InvalidOperationException($"A change of table {_mapping.QualifiedName} carries no value for its key column {_mapping.Keys[k].Name}.");
            }
        }

        return TableMapping.EncodeId(keys!);
    }

    private async Task<(string Id, byte[] Record)> ReadRowAsync(RelationMessage relation, ReplicationTuple tuple, Transaction transaction, CatchUp? catchUp, CancellationToken cancellationToken)
    {
        var values = new ColumnValue[_mapping.Columns.Length];
        List<int>? unchanged = null;
        var keys = new string?[_mapping.Keys.Length];
        var i = 0;
        await foreach (var value in tuple.ConfigureAwait(false))
        {
            var name = relation.Columns[i++].ColumnName;
            var keyIndex = _mapping.KeyIndex(name);
            if (keyIndex >= 0)
            {
                var key = value.IsDBNull || value.IsUnchangedToastedValue ? null : await ReadTextAsync(value, cancellationToken).ConfigureAwait(false);
                keys[keyIndex] = key;
                if (!_mapping.CompositeKey || key is null)
                {
                    // A single-column key is only the id; a composite key's columns are members too.
                    continue;
                }

                values[Array.FindIndex(_mapping.Columns, c => c.Name == name)] = ColumnValue.FromText(key);
                continue;
            }

            var index = Array.FindIndex(_mapping.Columns, c => c.Name == name);
            if (index < 0 || value.IsDBNull)
            {
                continue;
            }

            if (value.IsUnchangedToastedValue)
            {
                (unchanged ??= []).Add(index);
                continue;
            }

            values[index] = ColumnValue.FromText(await ReadTextAsync(value, cancellationToken).ConfigureAwait(false));
        }

        var id = IdOf(keys);

        if (unchanged is not null)
        {
            // A large value stored out of line (TOAST) that the update did not touch is not in the WAL: it is the value
            // the record already had, which the replica holds.
            var previous = transaction.Latest(id) ?? (catchUp is not null
                ? catchUp.Records.GetValueOrDefault(id)
                : _collection.TryGet(id, out var held) ? held.ToArray() : null);
            using var document = previous is null ? null : JsonDocument.Parse(previous);
            foreach (var index in unchanged)
            {
                if (document is not null && document.RootElement.TryGetProperty(_mapping.Columns[index].Name, out var old))
                {
                    values[index] = ColumnValue.FromJson(Encoding.UTF8.GetBytes(old.GetRawText()));
                }
                else
                {
                    Log.ToastWithoutPrevious(_logger, _collection.Name, id, _mapping.Columns[index].Name);
                }
            }
        }

        return (id, _mapping.BuildRecord(id, values));
    }

    private static async Task<string> ReadTextAsync(ReplicationValue value, CancellationToken cancellationToken)
    {
        using var reader = value.GetTextReader();
        return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
    }

    private static uint EpochOf(string systemId, string slotName)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(systemId + "/" + slotName), hash);
        var epoch = BitConverter.ToUInt32(hash);
        return epoch == 0 ? 1 : epoch;
    }

    private static ulong ParseLsn(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return (ulong.Parse(text.AsSpan(0, slash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) << 32)
            | ulong.Parse(text.AsSpan(slash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }

    private static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name.ToLowerInvariant())
        {
            builder.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? c : '_');
        }

        return builder.ToString();
    }

    /// <summary>The changes of one transaction to the table, as they arrive.</summary>
    private sealed class Transaction(uint xid)
    {
        private Dictionary<string, byte[]?>? _latest;

        public uint Xid { get; } = xid;

        public List<RecordChange> Changes { get; } = [];

        public bool Truncated { get; set; }

        public void Add(RecordChange change, byte[]? record)
        {
            Changes.Add(change);
            (_latest ??= new(StringComparer.Ordinal))[change.Id] = record;
        }

        // The record as this transaction last left it: null when it did not touch it (or removed it).
        public byte[]? Latest(string id) => _latest is not null && _latest.TryGetValue(id, out var record) ? record : null;
    }

    /// <summary>Loading from an existing slot: the rows as read, and what the replay up to the marker adds to them.</summary>
    private sealed class CatchUp(ulong from, SnapshotVisibility snapshot, string nonce, Dictionary<string, byte[]> records)
    {
        public ulong From { get; } = from;

        public SnapshotVisibility Snapshot { get; } = snapshot;

        public string Nonce { get; } = nonce;

        public Dictionary<string, byte[]> Records { get; } = records;

        public List<ulong> Ends { get; } = [];

        public List<uint> Xids { get; } = [];

        public (ulong Lsn, long Sequence)? Mapping { get; set; }
    }

    private sealed class RestartException(string message) : Exception(message);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Collection {Collection}: created publication {Publication}", EventName = "PostgresPublicationCreated")]
        public static partial void PublicationCreated(ILogger logger, string collection, string publication);

        [LoggerMessage(2, LogLevel.Information, "Collection {Collection}: created replication slot {Slot} at {Lsn} and loaded {Count} rows from its snapshot (cursor {Cursor})", EventName = "PostgresSlotCreated")]
        public static partial void SlotCreated(ILogger logger, string collection, string slot, string lsn, int count, string cursor);

        [LoggerMessage(3, LogLevel.Information, "Collection {Collection}: loading from existing slot {Slot} (confirmed at {Lsn}), {Count} rows read", EventName = "PostgresCatchingUp")]
        public static partial void CatchingUp(ILogger logger, string collection, string slot, string lsn, int count);

        [LoggerMessage(4, LogLevel.Information, "Collection {Collection}: loaded from slot {Slot} at cursor {Cursor}: {Count} records, {Replayed} transactions replayed", EventName = "PostgresLoaded")]
        public static partial void Loaded(ILogger logger, string collection, string slot, string cursor, int count, int replayed);

        [LoggerMessage(5, LogLevel.Information, "Collection {Collection}: resuming slot {Slot} after {Lsn}", EventName = "PostgresResuming")]
        public static partial void Resuming(ILogger logger, string collection, string slot, string lsn);

        [LoggerMessage(6, LogLevel.Warning, "Collection {Collection}: replication failed; reconnecting in {Delay}", EventName = "PostgresStreamFailed")]
        public static partial void StreamFailed(ILogger logger, string collection, TimeSpan delay, Exception exception);

        [LoggerMessage(7, LogLevel.Warning, "Collection {Collection}: {Reason}", EventName = "PostgresRestarting")]
        public static partial void Restarting(ILogger logger, string collection, string reason);

        [LoggerMessage(8, LogLevel.Warning, "Collection {Collection}: dropping replication slot {Slot}: {Reason}", EventName = "PostgresDroppingSlot")]
        public static partial void DroppingSlot(ILogger logger, string collection, string slot, string reason);

        [LoggerMessage(9, LogLevel.Debug, "Collection {Collection}: recording the position failed", EventName = "PostgresCheckpointFailed")]
        public static partial void CheckpointFailed(ILogger logger, string collection, Exception exception);

        [LoggerMessage(10, LogLevel.Warning, "Collection {Collection}: record {Id} has an unchanged TOASTed column {Column} but no previous value is held; it is null until the column is written", EventName = "PostgresToastWithoutPrevious")]
        public static partial void ToastWithoutPrevious(ILogger logger, string collection, string id, string column);
    }
}

/// <summary>Which transactions a snapshot (<c>pg_current_snapshot()</c>: <c>xmin:xmax:xip,...</c>) sees.</summary>
internal sealed class SnapshotVisibility
{
    private readonly ulong _xmin;
    private readonly ulong _xmax;
    private readonly HashSet<ulong> _inProgress;

    private SnapshotVisibility(ulong xmin, ulong xmax, HashSet<ulong> inProgress)
    {
        _xmin = xmin;
        _xmax = xmax;
        _inProgress = inProgress;
    }

    public static SnapshotVisibility Parse(string text)
    {
        var parts = text.Split(':');
        var inProgress = parts[2].Length == 0 ? [] : parts[2].Split(',').Select(x => ulong.Parse(x, CultureInfo.InvariantCulture)).ToHashSet();
        return new SnapshotVisibility(ulong.Parse(parts[0], CultureInfo.InvariantCulture), ulong.Parse(parts[1], CultureInfo.InvariantCulture), inProgress);
    }

    /// <summary>Whether the committed transaction <paramref name="xid"/> (32 bits, as logical replication gives it) is visible.</summary>
    public bool Sees(uint xid)
    {
        // Widen to 64 bits next to xmax: a committed transaction is at most 2^31 transactions away from it.
        var full = (_xmax & ~0xFFFFFFFFUL) | xid;
        if (full > _xmax + 0x80000000UL)
        {
            if (full < 0x100000000UL)
            {
                return true;
            }

            full -= 0x100000000UL;
        }
        else if (_xmax > 0x80000000UL && full < _xmax - 0x80000000UL)
        {
            full += 0x100000000UL;
        }

        return full < _xmin || (full < _xmax && !_inProgress.Contains(full));
    }
}
