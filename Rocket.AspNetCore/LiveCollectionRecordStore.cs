using System;
using System.Threading;
using System.Threading.Tasks;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>
/// The default <see cref="IRecordStore"/>: the live collection is the store, and every write is its own event. Writes go
/// through the app's <see cref="IRocketPublisher"/>, so a collection fed by a source (Redis) commits there and every node
/// sees the change; reads come from the collection, so a record and the list agree with the stream.
/// </summary>
public sealed class LiveCollectionRecordStore : IRecordStore
{
    // A patch of a replicated record is applied here and committed only if the record is unchanged; a record written
    // this often by others in the meantime gets 409 rather than a retry without end.
    private const int PatchAttempts = 8;

    private readonly CollectionRegistry _registry;
    private readonly IRocketPublisher _publisher;

    /// <summary>Creates the store over the app's live collections, writing to them directly.</summary>
    public LiveCollectionRecordStore(CollectionRegistry registry)
        : this(registry, new RocketPublisher(registry))
    {
    }

    /// <summary>Creates the store over the app's live collections, writing through <paramref name="publisher"/>.</summary>
    public LiveCollectionRecordStore(CollectionRegistry registry, IRocketPublisher publisher)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(publisher);
        _registry = registry;
        _publisher = publisher;
    }

    /// <inheritdoc/>
    public ValueTask<ReadOnlyMemory<byte>?> GetAsync(string collection, string id, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_registry.GetCollection(collection).TryGet(id, out var record) ? record : (ReadOnlyMemory<byte>?)null);

    /// <inheritdoc/>
    public async ValueTask<StoredRecord> CreateAsync(string collection, string id, ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default) =>
        new(record, await _publisher.PublishAsync(collection, ChangeSet.Create(RecordChange.Create(id, record.Span)), cancellationToken).ConfigureAwait(false));

    /// <inheritdoc/>
    public async ValueTask<StoredRecord> UpdateAsync(string collection, string id, ReadOnlyMemory<byte> record, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken = default)
    {
        var change = RecordChange.Update(id, record.Span);
        return new(record, await _publisher.PublishAsync(collection, ChangeSet.Create(expected is { } bytes ? change.IfMatch(bytes.Span) : change), cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc/>
    public async ValueTask<StoredRecord> PatchAsync(string collection, string id, JsonPatchDocument patch, CancellationToken cancellationToken = default)
    {
        var live = _registry.GetCollection(collection);
        if (!live.IsReplica)
        {
            var cursor = live.Patch(id, patch, out var patched);
            return new StoredRecord(patched, cursor);
        }

        for (var attempt = 1; ; attempt++)
        {
            if (!live.TryGet(id, out var current))
            {
                throw new ChangeRefusedException(ChangeRefusal.RecordNotFound, id, 0, $"Collection '{collection}' has no record '{id}'.");
            }

            var change = live.PreparePatch(id, patch, current.Span);
            try
            {
                var cursor = await _publisher.PublishAsync(collection, ChangeSet.Create(change), cancellationToken).ConfigureAwait(false);
                return new StoredRecord(change.Value, cursor);
            }
            catch (ChangeRefusedException e) when (e.Reason == ChangeRefusal.PreconditionFailed && attempt < PatchAttempts)
            {
                // Another writer got there first; the source brought this replica up to date before refusing, so the
                // next attempt applies the patch to the record as it now is.
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<Cursor> DeleteAsync(string collection, string id, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken = default)
    {
        var change = RecordChange.Destroy(id);
        return _publisher.PublishAsync(collection, ChangeSet.Create(expected is { } bytes ? change.IfMatch(bytes.Span) : change), cancellationToken);
    }
}
