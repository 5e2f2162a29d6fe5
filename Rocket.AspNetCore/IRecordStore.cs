using System;
using System.Threading;
using System.Threading.Tasks;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>
/// Where the REST scaffold keeps records. The default, used when none is registered, is the live collection itself
/// (in memory). An app with its own database implements this: it writes to its database, then publishes the change
/// with <see cref="IRocketPublisher"/> so every subscriber sees it.
/// </summary>
/// <remarks>
/// Records are UTF-8 JSON objects. Refusals are <see cref="ChangeRefusedException"/>s, which the scaffold maps to
/// HTTP: <see cref="ChangeRefusal.RecordNotFound"/> 404, <see cref="ChangeRefusal.RecordAlreadyExists"/> 409,
/// <see cref="ChangeRefusal.PreconditionFailed"/> 412, <see cref="ChangeRefusal.PatchFailed"/> 400 or 409.
/// </remarks>
public interface IRecordStore
{
    /// <summary>Gets a record, or <see langword="null"/> when there is none.</summary>
    ValueTask<ReadOnlyMemory<byte>?> GetAsync(string collection, string id, CancellationToken cancellationToken = default);

    /// <summary>Creates a record; refuses an id that exists.</summary>
    /// <returns>The record as stored and the cursor of the event the write caused (what <see cref="IRocketPublisher.PublishAsync"/> returned).</returns>
    ValueTask<StoredRecord> CreateAsync(string collection, string id, ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces a record. When <paramref name="expected"/> is given, only if the stored record is still those bytes
    /// (checked and written atomically), else <see cref="ChangeRefusal.PreconditionFailed"/>.
    /// </summary>
    /// <returns>The record as stored and the cursor of the event the write caused.</returns>
    ValueTask<StoredRecord> UpdateAsync(string collection, string id, ReadOnlyMemory<byte> record, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken = default);

    /// <summary>Applies a JSON Patch to a record, all or nothing, and returns the record it produced and the cursor of its event.</summary>
    ValueTask<StoredRecord> PatchAsync(string collection, string id, JsonPatchDocument patch, CancellationToken cancellationToken = default);

    /// <summary>Removes a record; with <paramref name="expected"/>, only if it is still those bytes.</summary>
    /// <returns>The cursor of the event the write caused.</returns>
    ValueTask<Cursor> DeleteAsync(string collection, string id, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken = default);
}
