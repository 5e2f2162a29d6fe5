using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;
using Rocket.AspNetCore;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.Postgres;

/// <summary>
/// The REST scaffold's writes to the table: checked by Rocket, committed in one database transaction (with the same
/// conditional semantics as in memory: existence, <c>If-Match</c>, a patch's <c>test</c> against the row as the
/// transaction locked it), then answered once the change came back through replication, with that event's cursor.
/// Subscribers see it only from there: the table is the one source of truth.
/// </summary>
internal sealed partial class PostgresCollectionSource
{
    private enum WriteKind
    {
        Create,
        Update,
        Patch,
        Delete,
    }

    public ValueTask<StoredRecord> CreateAsync(string id, ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        _collection.Validate(ChangeSet.Create(RecordChange.Create(id, record.Span)));
        var values = _mapping.ParseRecord(id, record.Span, forInsert: true);
        return WriteAsync(WriteKind.Create, id, values, null, null, cancellationToken);
    }

    public ValueTask<StoredRecord> UpdateAsync(string id, ReadOnlyMemory<byte> record, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken)
    {
        // Budgets (size, depth) here; existence and If-Match against the row itself, in the transaction.
        if (_collection.TryGet(id, out _))
        {
            _collection.Validate(ChangeSet.Create(RecordChange.Update(id, record.Span)));
        }

        var values = _mapping.ParseRecord(id, record.Span, forInsert: false);
        return WriteAsync(WriteKind.Update, id, values, expected, null, cancellationToken);
    }

    public ValueTask<StoredRecord> PatchAsync(string id, JsonPatchDocument patch, CancellationToken cancellationToken)
    {
        // A patch that cannot apply to the record as held is refused before the database is asked; the transaction
        // applies it again to the row it locked, so its `test` operations judge the state it is committed on.
        if (_collection.TryGet(id, out var current))
        {
            var prepared = _collection.PreparePatch(id, patch, current.Span);
            _mapping.ParseRecord(id, prepared.Value.Span, forInsert: false);
        }

        return WriteAsync(WriteKind.Patch, id, null, null, patch, cancellationToken);
    }

    public async ValueTask<Cursor> DeleteAsync(string id, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken) =>
        (await WriteAsync(WriteKind.Delete, id, null, expected, null, cancellationToken).ConfigureAwait(false)).Cursor;

    private async ValueTask<StoredRecord> WriteAsync(WriteKind kind, string id, Dictionary<TableMapping.Column, string?>? values, ReadOnlyMemory<byte>? expected, JsonPatchDocument? patch, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteOnceAsync(kind, id, values, expected, patch, cancellationToken).ConfigureAwait(false);
        }
        catch (BrokenBeforeCommitException)
        {
            // A pooled connection the server had closed (it restarted): nothing was sent to commit, so once more on a
            // fresh one, which is refused (503) if the server is really away.
            _dataSource.Clear();
            return await WriteOnceAsync(kind, id, values, expected, patch, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class BrokenBeforeCommitException(Exception inner) : Exception(inner.Message, inner);

    private async ValueTask<StoredRecord> WriteOnceAsync(WriteKind kind, string id, Dictionary<TableMapping.Column, string?>? values, ReadOnlyMemory<byte>? expected, JsonPatchDocument? patch, CancellationToken cancellationToken)
    {
        var committing = false;
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        uint xid = 0;
        Task<(Cursor Cursor, ChangeSet? Changes)>? replicated = null;
        try
        {
            await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
            {
                if (kind == WriteKind.Create)
                {
                    if (!await InsertAsync(connection, transaction, id, values!, cancellationToken).ConfigureAwait(false))
                    {
                        throw new ChangeRefusedException(ChangeRefusal.RecordAlreadyExists, id, 0, $"Collection '{_collection.Name}' already has a record '{id}'.");
                    }
                }
                else
                {
                    var current = await LockRowAsync(connection, transaction, id, cancellationToken).ConfigureAwait(false)
                        ?? throw new ChangeRefusedException(ChangeRefusal.RecordNotFound, id, 0, $"Collection '{_collection.Name}' has no record '{id}'.");
                    if (expected is { } bytes && !bytes.Span.SequenceEqual(current))
                    {
                        throw new ChangeRefusedException(ChangeRefusal.PreconditionFailed, id, 0, $"Record '{id}' changed since it was read.");
                    }

                    if (kind == WriteKind.Patch)
                    {
                        var patched = _collection.PreparePatch(id, patch!, current);
                        values = _mapping.ParseRecord(id, patched.Value.Span, forInsert: false);
                    }

                    if (kind == WriteKind.Delete)
                    {
                        await ExecuteAsync(connection, transaction, $"DELETE FROM {_mapping.QualifiedName} WHERE {_mapping.KeyCondition()}", _mapping.KeyArguments(id), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await UpdateRowAsync(connection, transaction, id, values!, cancellationToken).ConfigureAwait(false);
                    }
                }

                await using (var command = new NpgsqlCommand("SELECT txid_current()", connection, transaction))
                {
                    xid = unchecked((uint)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
                }

                replicated = WaitForTransaction(xid);
                committing = true;
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PostgresException e) when (e.SqlState.StartsWith("23", StringComparison.Ordinal) || e.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            ForgetTransaction(xid);
            var reason = e.SqlState == PostgresErrorCodes.UniqueViolation && kind == WriteKind.Create ? ChangeRefusal.RecordAlreadyExists : ChangeRefusal.InvalidJson;
            throw new ChangeRefusedException(reason, id, 0, $"Table {_mapping.Schema}.{_mapping.Name} refused the record: {e.MessageText}");
        }
        catch (Exception e) when (!committing && (e is NpgsqlException { IsTransient: true } || e is PostgresException { SqlState: "57P01" or "57P02" or "57P03" }))
        {
            ForgetTransaction(xid);
            throw new BrokenBeforeCommitException(e);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            ForgetTransaction(xid);
            _dataSource.Clear();
            throw new SourceUnavailableException($"PostgreSQL failed during the write to collection '{_collection.Name}' ({e.Message}); if the connection broke while committing, the change may still have been made, and then reaches every stream.", e, TimeSpan.FromSeconds(1));
        }
        catch
        {
            ForgetTransaction(xid);
            throw;
        }

        (Cursor Cursor, ChangeSet? Changes) applied;
        try
        {
            applied = await replicated!.WaitAsync(_options.WriteTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            ForgetTransaction(xid);
            throw new SourceUnavailableException($"The change to record '{id}' was committed in PostgreSQL, but replication has not delivered it within {_options.WriteTimeout.TotalSeconds:0.#} s; it reaches every stream when replication catches up.", e, TimeSpan.FromSeconds(1));
        }

        var stored = applied.Changes?.LastOrDefault(c => c.Id == id);
        if (stored is null && kind != WriteKind.Delete && _collection.TryGet(id, out var now))
        {
            // Applied while the collection was being loaded again, or fed into Redis by another node: the record as
            // this node holds it.
            return new StoredRecord(now, applied.Cursor);
        }

        return new StoredRecord(stored?.Value ?? default, applied.Cursor);
    }

    private async Task<bool> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string id, Dictionary<TableMapping.Column, string?> values, CancellationToken cancellationToken)
    {
        var columns = new List<TableMapping.Column>(_mapping.Keys);
        var arguments = new List<string?>(_mapping.KeyArguments(id));
        foreach (var (column, text) in values)
        {
            columns.Add(column);
            arguments.Add(text);
        }

        var sql = new StringBuilder($"INSERT INTO {_mapping.QualifiedName} (");
        sql.AppendJoin(", ", columns.Select(c => c.Quoted)).Append(") VALUES (");
        sql.AppendJoin(", ", columns.Select((c, i) => $"CAST(${i + 1} AS {c.TypeName})"));
        sql.Append(") ON CONFLICT (").AppendJoin(", ", _mapping.Keys.Select(k => k.Quoted)).Append(") DO NOTHING");
        return await ExecuteAsync(connection, transaction, sql.ToString(), arguments, cancellationToken).ConfigureAwait(false) == 1;
    }

    private async Task UpdateRowAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string id, Dictionary<TableMapping.Column, string?> values, CancellationToken cancellationToken)
    {
        // A PUT replaces the whole record: a column left out becomes NULL (generated columns are the table's own).
        var columns = _mapping.Columns.Where(c => !c.Generated && c.KeyPosition == 0).ToList();
        var key = _mapping.KeyArguments(id);
        if (columns.Count == 0)
        {
            // Nothing to set but the key: still a change of the row, so the stream shows the write.
            var first = _mapping.Keys[0].Quoted;
            await ExecuteAsync(connection, transaction, $"UPDATE {_mapping.QualifiedName} SET {first} = {first} WHERE {_mapping.KeyCondition()}", key, cancellationToken).ConfigureAwait(false);
            return;
        }

        var arguments = new List<string?>(key);
        var sets = new List<string>();
        foreach (var column in columns)
        {
            arguments.Add(values.GetValueOrDefault(column));
            sets.Add($"{column.Quoted} = CAST(${arguments.Count} AS {column.TypeName})");
        }

        await ExecuteAsync(connection, transaction, $"UPDATE {_mapping.QualifiedName} SET {string.Join(", ", sets)} WHERE {_mapping.KeyCondition()}", arguments, cancellationToken).ConfigureAwait(false);
    }

    private async Task<byte[]?> LockRowAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string id, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {_mapping.SelectList} FROM {_mapping.QualifiedName} WHERE {_mapping.KeyCondition()} FOR UPDATE", connection, transaction);
        foreach (var part in _mapping.KeyArguments(id))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = part, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? _mapping.ReadRecord(reader).Record : null;
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, IReadOnlyList<string?> arguments, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var argument in arguments)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)argument ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
