using System;
using System.Collections;
using System.Collections.Generic;

namespace Rocket.Live;

/// <summary>
/// One or more record changes published as one event: they apply all or nothing, in order, and are encoded once as one
/// JSON Patch array. Changes in one set may name the same id (a create then an update, say); each sees the ones before it.
/// </summary>
public sealed class ChangeSet : IReadOnlyList<RecordChange>
{
    private readonly RecordChange[] _changes;

    /// <summary>Creates a change set from <paramref name="changes"/>.</summary>
    /// <exception cref="ArgumentException">There is no change, or one is <see langword="null"/>.</exception>
    public ChangeSet(IEnumerable<RecordChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        _changes = [.. changes];
        Check(_changes);
    }

    private ChangeSet(RecordChange[] changes)
    {
        Check(changes);
        _changes = changes;
    }

    /// <summary>The number of changes.</summary>
    public int Count => _changes.Length;

    /// <summary>The change at <paramref name="index"/>.</summary>
    public RecordChange this[int index] => _changes[index];

    /// <summary>Creates a change set from <paramref name="changes"/>.</summary>
    /// <exception cref="ArgumentException">There is no change, or one is <see langword="null"/>.</exception>
    public static ChangeSet Create(params ReadOnlySpan<RecordChange> changes) => new(changes.ToArray());

    /// <inheritdoc/>
    public IEnumerator<RecordChange> GetEnumerator() => ((IEnumerable<RecordChange>)_changes).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static void Check(RecordChange[] changes)
    {
        if (changes.Length == 0)
        {
            // An empty event would move every client's cursor for nothing; refuse it where it is built.
            throw new ArgumentException("A change set needs at least one change.", nameof(changes));
        }

        if (Array.IndexOf(changes, null) >= 0)
        {
            throw new ArgumentException("A change set cannot hold a null change.", nameof(changes));
        }
    }
}
