using System;
using System.Threading;
using System.Threading.Tasks;
using Rocket.JsonPatch;

namespace Rocket.AspNetCore;

/// <summary>The default <see cref="IRecordStore"/>: the live collection is the store, in memory, and every write is its own event.</summary>
public sealed class LiveCollectionRecordStore : IRecordStore
{
    private readonly CollectionRegistry _registry;

    /// <summary>Creates the store over the app's live collections.</summary>
    public LiveCollectionRecordStore(CollectionRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
    }

    /// <inheritdoc/>
    public ValueTask<ReadOnlyMemory<byte>?> GetAsync(string collection, string id, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_registry.GetCollection(collection).TryGet(id, out var record) ? record : (ReadOnlyMemory<byte>?)null);

    /// <inheritdoc/>
    public ValueTask CreateAsync(string collection, string id, ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        _registry.GetCollection(collection).Create(id, record.Span);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask UpdateAsync(string collection, string id, ReadOnlyMemory<byte> record, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken = default)
    {
        var live = _registry.GetCollection(collection);
        if (expected is { } bytes)
        {
            live.Update(id, record.Span, bytes.Span);
        }
        else
        {
            live.Update(id, record.Span);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<ReadOnlyMemory<byte>> PatchAsync(string collection, string id, JsonPatchDocument patch, CancellationToken cancellationToken = default)
    {
        _registry.GetCollection(collection).Patch(id, patch, out var record);
        return ValueTask.FromResult(record);
    }

    /// <inheritdoc/>
    public ValueTask DeleteAsync(string collection, string id, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken = default)
    {
        var live = _registry.GetCollection(collection);
        if (expected is { } bytes)
        {
            live.Delete(id, bytes.Span);
        }
        else
        {
            live.Delete(id);
        }

        return ValueTask.CompletedTask;
    }
}
