using System;
using System.Threading;
using System.Threading.Tasks;
using Rocket.AspNetCore;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.Postgres;

/// <summary>
/// The REST scaffold's store when some collections follow tables: their writes go to the table (and reach subscribers
/// through replication); every other collection's go where they would without Rocket.Postgres.
/// </summary>
internal sealed class PostgresRecordStore(CollectionRegistry registry, IRocketPublisher publisher, PostgresSourceService service) : IRecordStore
{
    private readonly LiveCollectionRecordStore _other = new(registry, publisher);

    public ValueTask<ReadOnlyMemory<byte>?> GetAsync(string collection, string id, CancellationToken cancellationToken = default) =>
        _other.GetAsync(collection, id, cancellationToken);

    public ValueTask<StoredRecord> CreateAsync(string collection, string id, ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default) =>
        Source(collection) is { } source ? source.CreateAsync(id, record, cancellationToken) : _other.CreateAsync(collection, id, record, cancellationToken);

    public ValueTask<StoredRecord> UpdateAsync(string collection, string id, ReadOnlyMemory<byte> record, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken = default) =>
        Source(collection) is { } source ? source.UpdateAsync(id, record, expected, cancellationToken) : _other.UpdateAsync(collection, id, record, expected, cancellationToken);

    public ValueTask<StoredRecord> PatchAsync(string collection, string id, JsonPatchDocument patch, CancellationToken cancellationToken = default) =>
        Source(collection) is { } source ? source.PatchAsync(id, patch, cancellationToken) : _other.PatchAsync(collection, id, patch, cancellationToken);

    public ValueTask<Cursor> DeleteAsync(string collection, string id, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken = default) =>
        Source(collection) is { } source ? source.DeleteAsync(id, expected, cancellationToken) : _other.DeleteAsync(collection, id, expected, cancellationToken);

    private PostgresCollectionSource? Source(string collection)
    {
        if (service.TryGetSource(collection, out var source))
        {
            return source;
        }

        return service.IsPostgres(collection)
            ? throw new SourceUnavailableException($"Collection '{collection}' is not loaded from PostgreSQL yet.", null, TimeSpan.FromSeconds(1))
            : null;
    }
}
