using System;
using Rocket.JsonPatch;

namespace Rocket.Live;

// The collection as its own store: the local writes. Each is checked and published under the lock, as one event that
// goes to the fan-out like any other (see Publish). A replica refuses them (its source writes; see
// LiveCollection.Sources.cs).
public sealed partial class LiveCollection
{
    // A patch is applied outside the lock and committed only if the record is still the one it was applied to; after this
    // many lost races it is applied under the lock, where its budgets bound how long it can hold it.
    private const int OptimisticPatchAttempts = 4;

    /// <summary>
    /// Applies <paramref name="changes"/> all or nothing, publishes them as one event, and returns its cursor. With
    /// <see cref="UpdateEncoding.Diff"/>, changes that leave every value equal as JSON publish nothing and return the
    /// current cursor.
    /// </summary>
    /// <exception cref="ChangeRefusedException">
    /// A change cannot apply (a create of an id that exists, an update or destroy of one that does not); nothing changed.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The collection was disposed.</exception>
    /// <exception cref="InvalidOperationException">A source feeds the collection (<see cref="IsReplica"/>): write through it.</exception>
    public Cursor Apply(ChangeSet changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        lock (_lock)
        {
            ThrowIfNotWritable();
            _records.Check(changes);
            return Publish(changes);
        }
    }

    private void ThrowIfNotWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_replica)
        {
            throw new InvalidOperationException($"Collection '{Name}' is a replica of a source (Redis, a database); write through IRocketPublisher or the REST scaffold so every node sees the change.");
        }
    }

    /// <summary>Creates record <paramref name="id"/>; see <see cref="Apply"/>.</summary>
    public Cursor Create(string id, ReadOnlySpan<byte> utf8Json) => Apply(ChangeSet.Create(RecordChange.Create(id, utf8Json)));

    /// <summary>Replaces record <paramref name="id"/> with a new value; see <see cref="Apply"/>.</summary>
    public Cursor Update(string id, ReadOnlySpan<byte> utf8Json) => Apply(ChangeSet.Create(RecordChange.Update(id, utf8Json)));

    /// <summary>Removes record <paramref name="id"/>; see <see cref="Apply"/>.</summary>
    public Cursor Delete(string id) => Apply(ChangeSet.Create(RecordChange.Destroy(id)));

    /// <summary>
    /// Replaces record <paramref name="id"/> only if its current value is, byte for byte, <paramref name="expected"/>
    /// (what the caller read, for an HTTP <c>If-Match</c>): the comparison and the write happen under the writer lock.
    /// </summary>
    /// <exception cref="ChangeRefusedException">
    /// <see cref="ChangeRefusal.RecordNotFound"/>, or <see cref="ChangeRefusal.PreconditionFailed"/> when the record
    /// changed; nothing changed.
    /// </exception>
    public Cursor Update(string id, ReadOnlySpan<byte> utf8Json, ReadOnlySpan<byte> expected) =>
        Apply(ChangeSet.Create(RecordChange.Update(id, utf8Json).IfMatch(expected)));

    /// <summary>
    /// Removes record <paramref name="id"/> only if its current value is, byte for byte, <paramref name="expected"/>;
    /// see <see cref="Update(string, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>.
    /// </summary>
    /// <exception cref="ChangeRefusedException"><see cref="ChangeRefusal.RecordNotFound"/> or <see cref="ChangeRefusal.PreconditionFailed"/>; nothing changed.</exception>
    public Cursor Delete(string id, ReadOnlySpan<byte> expected) => Apply(ChangeSet.Create(RecordChange.Destroy(id).IfMatch(expected)));

    /// <summary>
    /// Applies a JSON Patch to record <paramref name="id"/> and publishes the result as an update. The patch is applied
    /// outside the writer lock and committed only if the record has not changed meanwhile (else applied again), so its
    /// <c>test</c> ops see exactly the state it is committed on; the collection's record budgets hold while it applies.
    /// </summary>
    /// <exception cref="ChangeRefusedException">
    /// The record does not exist (<see cref="ChangeRefusal.RecordNotFound"/>), the patch failed
    /// (<see cref="ChangeRefusal.PatchFailed"/>), or it would break a record budget (<see cref="ChangeRefusal.RecordTooLarge"/>,
    /// <see cref="ChangeRefusal.RecordTooDeep"/>), with the <see cref="JsonPatchException"/> inside; nothing changed.
    /// </exception>
    public Cursor Patch(string id, JsonPatchDocument patch) => Patch(id, patch, out _);

    /// <summary>
    /// Applies a JSON Patch to record <paramref name="id"/> and publishes the result as an update, returning the record
    /// as this patch left it (what an HTTP <c>PATCH</c> answers with, even if another write follows at once).
    /// </summary>
    /// <exception cref="ChangeRefusedException">As <see cref="Patch(string, JsonPatchDocument)"/>.</exception>
    public Cursor Patch(string id, JsonPatchDocument patch, out ReadOnlyMemory<byte> record)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(patch);

        // Applied outside the lock, so a large or slow patch holds up no other writer, reader or subscribe; committed
        // only if the record is still the array it was applied to (records are immutable arrays, replaced on every
        // write, so the same reference means the same state). Its `test` ops therefore saw the committed state.
        for (var attempt = 1; attempt < OptimisticPatchAttempts; attempt++)
        {
            var current = GetForPatch(id);
            var change = _records.ApplyPatch(id, patch, current);
            lock (_lock)
            {
                ThrowIfNotWritable();
                if (ReferenceEquals(_records.GetExisting(id), current))
                {
                    record = change.Value;
                    return Publish(ChangeSet.Create(change));
                }
            }
        }

        lock (_lock)
        {
            var change = _records.ApplyPatch(id, patch, GetForPatch(id));
            record = change.Value;
            return Publish(ChangeSet.Create(change));
        }
    }

    private byte[] GetForPatch(string id)
    {
        lock (_lock)
        {
            ThrowIfNotWritable();
            return _records.GetExisting(id);
        }
    }
}
