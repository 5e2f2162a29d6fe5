using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>
/// The REST scaffold's writes for a collection with its own <see cref="ICollectionStore"/>: checked against the
/// collection's state, committed by the store, then published as stored, one write at a time per collection.
/// </summary>
internal sealed class CollectionStoreRecordStore(CollectionRegistry registry, ICollectionStore store, CollectionWriteGates gates) : IRecordStore
{
    public ValueTask<ReadOnlyMemory<byte>?> GetAsync(string collection, string id, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(registry.GetCollection(collection).TryGet(id, out var record) ? record : (ReadOnlyMemory<byte>?)null);

    public ValueTask<StoredRecord> CreateAsync(string collection, string id, ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default) =>
        CommitAsync(collection, RecordChange.Create(id, record.Span), cancellationToken);

    public ValueTask<StoredRecord> UpdateAsync(string collection, string id, ReadOnlyMemory<byte> record, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken = default)
    {
        var change = RecordChange.Update(id, record.Span);
        return CommitAsync(collection, expected is { } bytes ? change.IfMatch(bytes.Span) : change, cancellationToken);
    }

    public ValueTask<StoredRecord> PatchAsync(string collection, string id, JsonPatchDocument patch, CancellationToken cancellationToken = default)
    {
        var live = registry.GetCollection(collection);
        if (!live.TryGet(id, out var current))
        {
            throw new ChangeRefusedException(ChangeRefusal.RecordNotFound, id, 0, $"Collection '{collection}' has no record '{id}'.");
        }

        // Applied outside the gate, to the record as Rocket holds it, and committed only if it is still that record.
        return CommitAsync(collection, live.PreparePatch(id, patch, current.Span), cancellationToken);
    }

    public async ValueTask<Cursor> DeleteAsync(string collection, string id, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken = default)
    {
        var change = RecordChange.Destroy(id);
        return (await CommitAsync(collection, expected is { } bytes ? change.IfMatch(bytes.Span) : change, cancellationToken).ConfigureAwait(false)).Cursor;
    }

    private async ValueTask<StoredRecord> CommitAsync(string collection, RecordChange change, CancellationToken cancellationToken)
    {
        var live = registry.GetCollection(collection);
        var gate = gates.For(collection);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Checked against the state the store's last commit left, before the store sees the change.
            live.Validate(ChangeSet.Create(change));
            var written = await store.WriteAsync(change, cancellationToken).ConfigureAwait(false);
            if (written.Refusal is { } refusal)
            {
                throw new ChangeRefusedException(refusal, change.Id, 0, written.Message!);
            }

            var stored = change.Kind switch
            {
                RecordChangeKind.Create => RecordChange.Create(change.Id, written.Record.Span),
                RecordChangeKind.Update => RecordChange.Update(change.Id, written.Record.Span),
                _ => change,
            };

            // Committed: published unconditionally (the gate kept every other scaffold write out since the check).
            var cursor = live.Apply(ChangeSet.Create(stored));
            return new StoredRecord(stored.Value, cursor);
        }
        finally
        {
            gate.Release();
        }
    }
}

/// <summary>One gate per collection with a store: its writes are committed and published one at a time, in order.</summary>
internal sealed class CollectionWriteGates
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    public SemaphoreSlim For(string collection) => _gates.GetOrAdd(collection, static _ => new SemaphoreSlim(1, 1));
}
