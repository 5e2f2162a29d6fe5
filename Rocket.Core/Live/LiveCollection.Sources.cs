using System;
using System.Collections.Generic;
using Rocket.JsonPatch;
using Rocket.Transports;

namespace Rocket.Live;

// What a source (Redis, a PostgreSQL table, an app's store) feeds the collection through: it checks changes here before
// committing them elsewhere, then hands over what it committed, in order (ApplyCommitted), or its whole state and recent
// history (Load). Its events reach the fan-out exactly as local writes do (see Publish); an older cursor is replayed from
// its log (HistorySource, EncodeFromSource).
public sealed partial class LiveCollection
{
    /// <summary>
    /// The log a source keeps beyond this collection's history, or <see langword="null"/>: a cursor of the current epoch
    /// older than the history is replayed from it (see <see cref="IHistorySource"/>) instead of getting a reset.
    /// </summary>
    public IHistorySource? HistorySource { get; set; }

    /// <summary>
    /// Whether a source feeds this collection (<see cref="Load"/> was called): its state mirrors a store outside the
    /// process, and the local write methods throw, since a write must go through the source to reach every node.
    /// </summary>
    public bool IsReplica
    {
        get
        {
            lock (_lock)
            {
                return _replica;
            }
        }
    }

    /// <summary>
    /// Checks that <paramref name="changes"/> would apply to the collection as it is now (ids, conditions, record
    /// budgets), without applying them: for a store that commits elsewhere first and then publishes here.
    /// </summary>
    /// <exception cref="ChangeRefusedException">A change would be refused; see <see cref="Apply"/>.</exception>
    public void Validate(ChangeSet changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _records.Check(changes);
        }
    }

    /// <summary>
    /// Applies an event a source has already committed at <paramref name="cursor"/>: the records change and every
    /// subscriber gets the event, exactly as if it had been written here. The source keeps the order: each cursor must be
    /// the next one of this collection's epoch.
    /// </summary>
    /// <returns>True when applied; false when the collection already holds it (its sequence is not past the current one).</returns>
    /// <exception cref="InvalidOperationException">
    /// The cursor is of another epoch or skips sequences: the source must fill the gap first, or <see cref="Load"/> anew.
    /// </exception>
    /// <exception cref="ChangeRefusedException">The changes do not fit the state this replica holds (it diverged): <see cref="Load"/> anew.</exception>
    public bool ApplyCommitted(Cursor cursor, ChangeSet changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (cursor.Epoch == _epoch && cursor.Sequence <= _sequence)
            {
                return false;
            }

            if (cursor.Epoch != _epoch || cursor.Sequence != _sequence + 1)
            {
                throw new InvalidOperationException($"Collection '{Name}' is at {new Cursor(_epoch, _sequence)}; the event {cursor} does not follow it.");
            }

            _records.Check(changes);
            Publish(changes);
            return true;
        }
    }

    /// <summary>
    /// Replaces the collection's whole state with a source's: its epoch, the sequence of that state, its records, and
    /// the newest events before it (which become the history cursors resume from: each is that event's cursor and
    /// changes, in order, the last one at <paramref name="sequence"/>). Every subscriber is ended with
    /// <see cref="CloseReason.ShuttingDown"/>-status and reconnects: resumed from the new history, or reset.
    /// From then on the collection is a replica (<see cref="IsReplica"/>): only the source writes to it.
    /// </summary>
    /// <exception cref="ChangeRefusedException">A record is not valid JSON or is over the collection's limits.</exception>
    /// <exception cref="ArgumentException">The history is not consecutive or does not end at <paramref name="sequence"/>.</exception>
    public void Load(uint epoch, long sequence, IEnumerable<KeyValuePair<string, ReadOnlyMemory<byte>>> records, IReadOnlyList<(Cursor Cursor, ChangeSet Changes)>? history = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        history ??= [];
        for (var i = 0; i < history.Count; i++)
        {
            if (history[i].Cursor.Epoch != epoch || history[i].Cursor.Sequence != sequence - history.Count + 1 + i)
            {
                throw new ArgumentException($"The history must be the consecutive events of epoch {epoch:x8} ending at {sequence}.", nameof(history));
            }
        }

        // Checked before anything is touched, outside the lock.
        var loaded = _records.CheckLoad(records);

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _subscribers.EndAll(SourceReloaded);
            _replica = true;
            _epoch = epoch;
            _records.Load(loaded);
            _encoder.ForgetReset();
            _sequence = sequence - history.Count;
            _fanOut.Restart(_sequence);
            foreach (var (_, changes) in history)
            {
                // Only the patch is kept: no subscriber is registered yet.
                _fanOut.AppendHistory(_encoder.EncodeFromHistory(new Cursor(_epoch, ++_sequence), changes));
            }
        }
    }

    // Why a source's reload ends the subscribers: their ranges count in the old state's sequence.
    private static readonly CloseReason SourceReloaded = new(CloseStatus.ShuttingDown, "the collection was reloaded from its store; reconnect and resume from your last cursor");

    /// <summary>
    /// Applies <paramref name="patch"/> to <paramref name="current"/>, the record <paramref name="id"/> as a source holds
    /// it, within this collection's record budgets, and returns the update to commit: conditional on the record still
    /// being <paramref name="current"/> (a compare-and-swap; on <see cref="ChangeRefusal.PreconditionFailed"/> read the
    /// record again and retry). For sources that commit elsewhere; <see cref="Patch(string, JsonPatchDocument)"/> does
    /// this for a collection in memory.
    /// </summary>
    /// <exception cref="ChangeRefusedException">The patch failed or would break a budget; see <see cref="Patch(string, JsonPatchDocument)"/>.</exception>
    public RecordChange PreparePatch(string id, JsonPatchDocument patch, ReadOnlySpan<byte> current)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(patch);
        return _records.ApplyPatch(id, patch, current).IfMatch(current);
    }

    // An event read from the source's log, encoded as the history loaded from a source is (whole-record replaces), for
    // one subscriber's replay.
    internal LiveEvent EncodeFromSource(Cursor cursor, ChangeSet changes)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _encoder.EncodeFromHistory(cursor, changes);
        }
    }
}
